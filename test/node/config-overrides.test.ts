import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  applyConfigOverrides,
  CONFIG_FIELDS,
  configTableMarkdown,
  DEFAULT_NODE_CONFIG,
  describeConfig,
  envName,
  flagName,
  parseNodeConfig,
  unknownEnvVars,
  type ConfigOverrides,
  type NodeConfig,
} from '../../src/node/config.js';

/** The config a node would run with: file text (or none), then env, then flags. */
function resolve(fileText: string | undefined, overrides: ConfigOverrides): NodeConfig {
  let base = DEFAULT_NODE_CONFIG;
  if (fileText !== undefined) {
    const parsed = parseNodeConfig(fileText);
    if (!parsed.ok) throw new Error(parsed.error.message);
    base = parsed.value;
  }
  const out = applyConfigOverrides(base, overrides);
  if (!out.ok) throw new Error(out.error.message);
  return out.value;
}

function overrideError(overrides: ConfigOverrides, base: NodeConfig = DEFAULT_NODE_CONFIG) {
  const out = applyConfigOverrides(base, overrides);
  if (out.ok) throw new Error('expected an error');
  return out.error;
}

describe('config precedence: flag > env > file > default', () => {
  const file = JSON.stringify({ rpcListen: '127.0.0.1:1111', logLevel: 'warn', wsMaxConnections: 5, metrics: false, moniker: 'from-file' });

  it('takes defaults, then the file, then env, then flags, field by field', () => {
    expect(resolve(undefined, {})).toEqual(DEFAULT_NODE_CONFIG);
    const fromFile = resolve(file, {});
    expect(fromFile).toMatchObject({ rpcListen: '127.0.0.1:1111', logLevel: 'warn', wsMaxConnections: 5, metrics: false, rpcMaxBatch: 100 });

    const env = { LEDGER_RPC_LISTEN: '127.0.0.1:2222', LEDGER_LOG_LEVEL: 'debug', LEDGER_METRICS: 'on', LEDGER_RPC_MAX_BATCH: '7' };
    expect(resolve(file, { env })).toMatchObject({
      rpcListen: '127.0.0.1:2222',
      logLevel: 'debug',
      metrics: true,
      rpcMaxBatch: 7,
      wsMaxConnections: 5, // file, untouched by env
      moniker: 'from-file',
    });

    const flags = { rpcListen: '[::1]:3333', metrics: false, wsMaxConnections: '0' };
    expect(resolve(file, { env, flags })).toMatchObject({
      rpcListen: '[::1]:3333',
      logLevel: 'debug', // env, no flag
      metrics: false,
      wsMaxConnections: 0,
      rpcMaxBatch: 7,
      moniker: 'from-file',
    });
  });

  it('reads every field from its environment variable and its flag', () => {
    const values: Record<string, string> = {
      moniker: 'm',
      genesisFile: '/g.json',
      keyFile: 'k.json',
      dataDir: 'd',
      p2pListen: '/ip4/127.0.0.1/tcp/9',
      rpcListen: '127.0.0.1:9',
      logLevel: 'error',
      rpcMaxBodyBytes: '2048',
      rpcMaxConnections: '3',
      rpcMaxBatch: '4',
      rpcRequestTimeoutMs: '500',
      wsMaxConnections: '6',
      wsMaxSubscriptions: '7',
      wsMaxMessageBytes: '4096',
      wsMaxBufferedBytes: '65536',
      metrics: 'false',
      rpcAuthToken: 'secret-token-0123456789',
    };
    expect(Object.keys(values).sort()).toEqual([...CONFIG_FIELDS].sort());
    const env = Object.fromEntries(Object.entries(values).map(([k, v]) => [envName(k as keyof NodeConfig), v]));
    const fromEnv = resolve(undefined, { env });
    const fromFlags = resolve(undefined, { flags: values });
    for (const field of CONFIG_FIELDS) {
      expect(fromEnv[field], field).not.toEqual(DEFAULT_NODE_CONFIG[field]);
      expect(String(fromEnv[field]), field).toBe(values[field]);
    }
    expect(fromFlags).toEqual(fromEnv);
  });

  it('treats an empty environment variable as unset', () => {
    expect(resolve(undefined, { env: { LEDGER_RPC_LISTEN: '', LEDGER_METRICS: '' } })).toEqual(DEFAULT_NODE_CONFIG);
  });

  it('accepts the usual boolean words from the environment', () => {
    for (const [word, value] of [['true', true], ['1', true], ['YES', true], ['on', true], ['false', false], ['0', false], ['no', false], ['Off', false]] as const) {
      expect(resolve(undefined, { env: { LEDGER_METRICS: word } }).metrics, word).toBe(value);
    }
  });
});

describe('config errors name the source and the field, on one line', () => {
  it.each([
    [{ env: { LEDGER_RPC_MAX_BODY_BYTES: 'abc' } }, 'env', 'rpcMaxBodyBytes', 'environment variable LEDGER_RPC_MAX_BODY_BYTES: rpcMaxBodyBytes must be an integer from 1024 to 67108864 (got "abc")'],
    [{ env: { LEDGER_RPC_MAX_BODY_BYTES: '10' } }, 'env', 'rpcMaxBodyBytes', 'environment variable LEDGER_RPC_MAX_BODY_BYTES: rpcMaxBodyBytes must be an integer from 1024 to 67108864 (got "10")'],
    [{ env: { LEDGER_LOG_LEVEL: 'loud' } }, 'env', 'logLevel', 'environment variable LEDGER_LOG_LEVEL: logLevel must be one of debug, info, warn, error, silent (got "loud")'],
    [{ env: { LEDGER_METRICS: 'maybe' } }, 'env', 'metrics', 'environment variable LEDGER_METRICS: metrics must be true or false (or 1/0, yes/no, on/off) (got "maybe")'],
    [{ flags: { wsMaxConnections: '-1' } }, 'flag', 'wsMaxConnections', 'flag --ws-max-connections: wsMaxConnections must be an integer from 0 to 65535 (got "-1")'],
    [{ flags: { rpcMaxBatch: '1.5' } }, 'flag', 'rpcMaxBatch', 'flag --rpc-max-batch: rpcMaxBatch must be an integer from 1 to 10000 (got "1.5")'],
    [{ flags: { rpcListen: 'localhost' } }, 'flag', 'rpcListen', 'flag --rpc-listen: rpcListen must be host:port, such as 127.0.0.1:26657 (got "localhost")'],
    [{ flags: { p2pListen: '127.0.0.1:1' } }, 'flag', 'p2pListen', 'flag --p2p-listen: p2pListen must be a TCP multiaddr such as /ip4/0.0.0.0/tcp/26656 (got "127.0.0.1:1")'],
  ] as const)('%j', (overrides, source, field, message) => {
    const error = overrideError(overrides as ConfigOverrides);
    expect(error).toEqual({ source, field, message });
    expect(error.message).not.toContain('\n');
  });

  it('checks a flag even when the environment gives a good value for the same field, and the environment even when a flag overrides it', () => {
    expect(overrideError({ env: { LEDGER_RPC_MAX_BATCH: '5' }, flags: { rpcMaxBatch: 'x' } }).source).toBe('flag');
    // A broken variable is a mistake worth reporting even when a flag wins over it.
    expect(overrideError({ env: { LEDGER_RPC_MAX_BATCH: 'x' }, flags: { rpcMaxBatch: '5' } }).source).toBe('env');
  });

  it.each([
    ['{"metrics": "yes"}', 'metrics'],
    ['{"wsMaxBufferedBytes": 10}', 'wsMaxBufferedBytes'],
    ['{"rpcMaxConnections": 0}', 'rpcMaxConnections'],
    ['{"rpcRequestTimeoutMs": "30000"}', 'rpcRequestTimeoutMs'],
    ['{"wsMaxSubscriptions": 1.5}', 'wsMaxSubscriptions'],
  ])('names the file field in %s', (text, field) => {
    const parsed = parseNodeConfig(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toMatchObject({ source: 'file', field });
      expect(parsed.error.message).toContain(`config field "${field}" must be`);
    }
  });

  it('shows at most 60 characters of a bad value', () => {
    const error = overrideError({ env: { LEDGER_MONIKER: 'x'.repeat(500) } });
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('config names and docs', () => {
  it('maps fields to LEDGER_ variables and kebab-case flags, all distinct', () => {
    expect(envName('rpcListen')).toBe('LEDGER_RPC_LISTEN');
    expect(envName('p2pListen')).toBe('LEDGER_P2P_LISTEN');
    expect(envName('wsMaxBufferedBytes')).toBe('LEDGER_WS_MAX_BUFFERED_BYTES');
    expect(flagName('rpcRequestTimeoutMs')).toBe('rpc-request-timeout-ms');
    // Commander turns the flag back into the field name.
    for (const field of CONFIG_FIELDS) expect(flagName(field).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())).toBe(field);
    expect(new Set(CONFIG_FIELDS.map(envName)).size).toBe(CONFIG_FIELDS.length);
  });

  it('flags LEDGER_ variables that name no field, but not LEDGER_DEBUG or other programs', () => {
    expect(unknownEnvVars({ LEDGER_RPC_LISTN: 'x', LEDGER_DEBUG: '1', LEDGER_RPC_LISTEN: 'y', HOME: '/root', NODE_ENV: 'x' })).toEqual(['LEDGER_RPC_LISTN']);
  });

  it('documents every field with a description and its default, and docs/config.md carries the current table', async () => {
    const docs = describeConfig();
    expect(docs.map((d) => d.field)).toEqual([...CONFIG_FIELDS]);
    for (const d of docs) {
      expect(d.description.length, d.field).toBeGreaterThan(10);
      expect(d.default, d.field).toEqual(DEFAULT_NODE_CONFIG[d.field]);
    }
    const text = await readFile(new URL('../../docs/config.md', import.meta.url), 'utf8');
    expect(text).toContain(configTableMarkdown());
  });

  it('round-trips every field through config.json', () => {
    const config: NodeConfig = { ...DEFAULT_NODE_CONFIG, wsMaxMessageBytes: 2048, metrics: false, rpcRequestTimeoutMs: 100 };
    const json = JSON.parse(JSON.stringify(config));
    expect(parseNodeConfig(JSON.stringify(json))).toEqual({ ok: true, value: config });
  });
});
