import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_NODE_CONFIG,
  loadNodeConfig,
  nodeConfigToJson,
  parseHostPort,
  parseNodeConfig,
  resolveConfigPaths,
  writeNodeConfig,
  type NodeConfig,
} from '../../src/node/config.js';

function parseError(text: string): { field: string; message: string } {
  const parsed = parseNodeConfig(text);
  if (parsed.ok) throw new Error(`expected an error for ${text}`);
  return parsed.error;
}

describe('parseNodeConfig', () => {
  it('fills in defaults for missing fields', () => {
    const parsed = parseNodeConfig('{"moniker": "alpha"}');
    expect(parsed).toEqual({ ok: true, value: { ...DEFAULT_NODE_CONFIG, moniker: 'alpha' } });
  });

  it('round-trips a full config through its JSON', () => {
    const config: NodeConfig = {
      ...DEFAULT_NODE_CONFIG,
      moniker: 'node3',
      genesisFile: '../genesis.json',
      keyFile: '/etc/ledger/node.key.json',
      p2pListen: '/ip4/127.0.0.1/tcp/26686',
      rpcListen: '[::1]:26687',
      logLevel: 'debug',
      dataDir: 'db',
      rpcMaxBodyBytes: 4096,
      wsMaxConnections: 0,
      metrics: false,
    };
    expect(parseNodeConfig(nodeConfigToJson(config))).toEqual({ ok: true, value: config });
  });

  it.each([
    ['{"moniker": ""}', 'moniker'],
    ['{"moniker": 7}', 'moniker'],
    ['{"genesisFile": ""}', 'genesisFile'],
    ['{"keyFile": null}', 'keyFile'],
    ['{"p2pListen": "127.0.0.1:26656"}', 'p2pListen'],
    ['{"p2pListen": "/ip4/127.0.0.1/tcp/70000"}', 'p2pListen'],
    ['{"rpcListen": "localhost"}', 'rpcListen'],
    ['{"rpcListen": "localhost:99999"}', 'rpcListen'],
    ['{"logLevel": "loud"}', 'logLevel'],
    ['{"dataDir": 3}', 'dataDir'],
    ['{"rpcPort": 1}', 'rpcPort'],
  ])('names the bad field in %s', (text, field) => {
    const error = parseError(text);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
  });

  it('refuses text that is not a JSON object', () => {
    for (const text of ['', '{', '[]', '"x"', 'null']) expect(parseError(text).field).toBe('');
  });
});

describe('parseHostPort', () => {
  it('splits hosts, IPv6 literals and ports', () => {
    expect(parseHostPort('127.0.0.1:26657')).toEqual({ host: '127.0.0.1', port: 26657 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('example.org:0')).toEqual({ host: 'example.org', port: 0 });
    for (const bad of ['::1:80', 'host', ':80', 'host:', 'host:65536', 'a b:1']) expect(parseHostPort(bad)).toBeUndefined();
  });
});

describe('config files', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'ledger-config-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('writes, refuses to overwrite, and loads back', async () => {
    const config = { ...DEFAULT_NODE_CONFIG, moniker: 'beta' };
    await writeNodeConfig(home, config);
    await expect(writeNodeConfig(home, config)).rejects.toThrow();
    await writeNodeConfig(home, { ...config, moniker: 'gamma' }, { overwrite: true });
    expect(await loadNodeConfig(home)).toEqual({ ok: true, value: { ...config, moniker: 'gamma' } });
    expect(JSON.parse(await readFile(join(home, 'config.json'), 'utf8')).moniker).toBe('gamma');
  });

  it('reports a missing or bad file with its path', async () => {
    const missing = await loadNodeConfig(home);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toBe(`${join(home, 'config.json')} does not exist`);
  });

  it('resolves relative paths against the home', () => {
    const paths = resolveConfigPaths(home, { ...DEFAULT_NODE_CONFIG, genesisFile: '../genesis.json', keyFile: '/abs/key.json' });
    expect(paths.genesisFile).toBe(join(home, '..', 'genesis.json'));
    expect(paths.keyFile).toBe('/abs/key.json');
    expect(paths.dataDir).toBe(join(home, 'data'));
  });
});
