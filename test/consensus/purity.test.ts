/**
 * The consensus core must stay pure: no I/O, no clock, no timers, no randomness — not in
 * src/consensus and not in anything it imports at run time. This is what lets the
 * simulator replay any fault schedule from a seed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const consensusDir = join(root, 'src/consensus');

const FORBIDDEN_MODULES = /^(node:|libp2p|@libp2p\/|@chainsafe\/|level|classic-level|fs$|net$|http$|crypto$|os$|child_process$|worker_threads$)/;
const FORBIDDEN_TOKENS: readonly [RegExp, string][] = [
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew Date\b/, 'new Date'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bprocess\./, 'process.*'],
  [/\bqueueMicrotask\b/, 'queueMicrotask'],
];

/** Strips comments so that prose about Date.now does not trip the check. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

/** Module specifiers imported for their values (type-only imports vanish at run time). */
function valueImports(text: string): string[] {
  const specifiers: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s*['"]([^'"]+)['"]/gm;
  for (const match of text.matchAll(re)) {
    if (match[2] !== undefined) continue;
    specifiers.push(match[4] as string);
  }
  for (const match of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specifiers.push(match[1] as string);
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1] as string);
  return specifiers;
}

function sourcePath(fromFile: string, specifier: string): string {
  return resolve(dirname(fromFile), specifier).replace(/\.js$/, '.ts');
}

/** Every file reachable from src/consensus through value imports, with what each imports. */
function reachable(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = readdirSync(consensusDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(consensusDir, f));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const specifiers = valueImports(code(readFileSync(file, 'utf8')));
    seen.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) queue.push(sourcePath(file, s));
  }
  return seen;
}

describe('consensus core purity', () => {
  const files = reachable();

  it('reaches the core and what it depends on', () => {
    const names = [...files.keys()].map((f) => f.slice(root.length + 1));
    expect(names).toContain('src/consensus/replica.ts');
    expect(names).toContain('src/codec/consensus.ts');
  });

  it('imports no I/O, network, storage or OpenSSL module, directly or transitively', () => {
    const offenders: string[] = [];
    for (const [file, specifiers] of files) {
      for (const s of specifiers) if (!s.startsWith('.') && FORBIDDEN_MODULES.test(s)) offenders.push(`${file.slice(root.length + 1)} imports ${s}`);
    }
    expect(offenders).toEqual([]);
  });

  it('reads no clock, sets no timer and draws no random number', () => {
    const offenders: string[] = [];
    for (const file of files.keys()) {
      const text = code(readFileSync(file, 'utf8'));
      for (const [re, name] of FORBIDDEN_TOKENS) if (re.test(text)) offenders.push(`${file.slice(root.length + 1)} uses ${name}`);
    }
    expect(offenders).toEqual([]);
  });

  it('catches an offender (the check itself has teeth)', () => {
    expect(valueImports("import { x } from 'node:fs';")).toEqual(['node:fs']);
    expect(valueImports("import type { x } from 'node:fs';")).toEqual([]);
    expect(FORBIDDEN_TOKENS.some(([re]) => re.test(code('const t = Date.now();')))).toBe(true);
    expect(FORBIDDEN_TOKENS.some(([re]) => re.test(code('// Date.now is not used')))).toBe(false);
  });
});
