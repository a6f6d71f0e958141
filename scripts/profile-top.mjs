/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, or `npm run bench -- --profile DIR`):
 * the functions with the most self time, summed over every profile in DIR.
 *
 *   node scripts/profile-top.mjs DIR [rows=25]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [dir, rowsArg] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: node scripts/profile-top.mjs DIR [rows]');
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const selfMicros = new Map();
let totalMicros = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url === '' ? '' : ` ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    const dt = profile.timeDeltas[i] ?? 0;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + dt);
    totalMicros += dt;
  });
}
console.log(`${files.length} profiles, ${(totalMicros / 1e6).toFixed(1)} s sampled`);
const rows = [...selfMicros].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25));
for (const [key, micros] of rows) console.log(`${(micros / 1e3).toFixed(0).padStart(8)} ms ${((100 * micros) / totalMicros).toFixed(1).padStart(5)}%  ${key}`);
