import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLedgerNode, heapGrowingFlag } from '../../src/cli/ledger-node.js';
import { formatCliError } from '../../src/cli/errors.js';
import { CONFIG_FIELDS, DEFAULT_NODE_CONFIG, envName, flagName, writeNodeConfig } from '../../src/node/config.js';

/** Runs `ledger-node ARGS` in-process with `env`; returns its output and the error line / exit code main() would print. */
async function run(args: string[], env: Record<string, string> = {}, cwd = tmpdir()) {
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd };
  let started = false;
  try {
    await buildLedgerNode(io, async () => {
      started = true;
    }, env).parseAsync(args, { from: 'user' });
    return { output: out.join(''), message: '', exitCode: 0, started };
  } catch (error) {
    const formatted = formatCliError(error);
    return { output: out.join(''), message: formatted.message, exitCode: formatted.exitCode, started };
  }
}

describe('ledger-node start --help', () => {
  it('lists every config field with its flag, environment variable and default', async () => {
    const { output, exitCode } = await run(['start', '--help']);
    expect(exitCode).toBe(0);
    for (const field of CONFIG_FIELDS) {
      expect(output, field).toContain(`--${flagName(field)}`);
      expect(output, field).toContain(envName(field));
      expect(output, field).toContain(`default ${JSON.stringify(DEFAULT_NODE_CONFIG[field])}`);
    }
    expect(output).toContain('--no-metrics');
    expect(output).toContain('--rpc, --rpc-listen');
    expect(output).toContain('flag > environment > config.json > default');
  });
});

describe('ledger-node start: bad configuration', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'ledger-node-cli-'));
    // No genesis or key: a config error must be reported before anything is opened.
    await writeNodeConfig(home, DEFAULT_NODE_CONFIG);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('names a bad flag and exits 2', async () => {
    const result = await run(['start', '--home', home, '--ws-max-subscriptions', 'lots']);
    expect(result).toMatchObject({ exitCode: 2, started: false });
    expect(result.message).toBe('error: flag --ws-max-subscriptions: wsMaxSubscriptions must be an integer from 1 to 10000 (got "lots")');
  });

  it('names a bad environment variable and exits 2', async () => {
    const result = await run(['start', '--home', home], { LEDGER_RPC_LISTEN: 'nowhere' });
    expect(result).toMatchObject({ exitCode: 2, started: false });
    expect(result.message).toBe('error: environment variable LEDGER_RPC_LISTEN: rpcListen must be host:port, such as 127.0.0.1:26657 (got "nowhere")');
  });

  it('names the file and the field of a bad config.json value', async () => {
    await writeFile(join(home, 'config.json'), JSON.stringify({ wsMaxBufferedBytes: 'big' }));
    const result = await run(['start', '--home', home]);
    expect(result.exitCode).toBe(1);
    expect(result.message).toBe(`error: ${join(home, 'config.json')}: config field "wsMaxBufferedBytes" must be an integer from 65536 to 1073741824`);
  });

  it('gets past the config when it is good (and then fails on the missing genesis)', async () => {
    const result = await run(['start', '--home', home, '--rpc', '127.0.0.1:0', '--no-metrics'], { LEDGER_LOG_LEVEL: 'silent' });
    expect(result.started).toBe(false);
    expect(result.message).toContain('genesis.json');
  });
});

describe('ledger-node heap growth', () => {
  it('has V8 collect at about twice the live heap, unless node was started with its own setting', () => {
    expect(heapGrowingFlag([])).toBe('--heap-growing-percent=100');
    expect(heapGrowingFlag(['--max-old-space-size=512', '--cpu-prof'])).toBe('--heap-growing-percent=100');
    expect(heapGrowingFlag(['--heap-growing-percent=50'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap_growing_percent=300'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap-growing-percentage=1'])).toBe('--heap-growing-percent=100');
  });
});
