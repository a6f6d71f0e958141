import { describe, expect, it } from 'vitest';
import { addressOf } from '../../src/crypto/address.js';
import { toHex } from '../../src/crypto/bytes.js';
import {
  DEFAULT_CONSENSUS_PARAMS,
  genesisFromJson,
  genesisHash,
  genesisState,
  genesisToJson,
  genesisToJsonValue,
  parseGenesis,
  type GenesisJson,
} from '../../src/ledger/genesis.js';
import { faultTolerance, quorumSize } from '../../src/ledger/quorum.js';
import { makeTestnet, testKeyPair } from '../helpers/fixtures.js';

const tn = makeTestnet({ validators: 4, accounts: 3, admins: 1 });

/** A fresh, mutable copy of the testnet's genesis JSON. */
function base(): GenesisJson {
  return JSON.parse(genesisToJson(tn.genesis)) as GenesisJson;
}

function rejects(json: unknown): { field: string; message: string; code: string } {
  const r = genesisFromJson(json);
  if (r.ok) throw new Error('expected the genesis to be rejected');
  return r.error;
}

describe('parseGenesis', () => {
  it('round-trips through genesisToJson', () => {
    const text = genesisToJson(tn.genesis);
    const again = parseGenesis(text);
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.value).toEqual(tn.genesis);
    expect(genesisToJson(again.value)).toBe(text);
    expect(genesisHash(again.value)).toEqual(genesisHash(tn.genesis));
  });

  it('derives validator addresses and applies consensus defaults when omitted', () => {
    const json = base() as unknown as Record<string, unknown>;
    delete json.consensus;
    for (const v of json.validators as Record<string, unknown>[]) delete v.address;
    const g = genesisFromJson(json);
    expect(g.ok).toBe(true);
    if (!g.ok) return;
    expect(g.value.consensus).toEqual(DEFAULT_CONSENSUS_PARAMS);
    g.value.validators.forEach((v, i) => expect(v.address).toBe(addressOf(tn.validatorKeys[i]!.publicKey)));
  });

  it('accepts a partial consensus section, filling in the rest', () => {
    const json = base();
    (json as unknown as { consensus: unknown }).consensus = { maxBlockTxs: 7 };
    const g = genesisFromJson(json);
    expect(g.ok && g.value.consensus).toEqual({ ...DEFAULT_CONSENSUS_PARAMS, maxBlockTxs: 7 });
  });

  it('accepts the largest u64 balance and defaults account flags to false', () => {
    const json = base();
    json.accounts = [{ address: tn.addresses[0]!, balance: '18446744073709551615' } as GenesisJson['accounts'][number]];
    const g = genesisFromJson(json);
    expect(g.ok).toBe(true);
    if (!g.ok) return;
    expect(g.value.accounts[0]).toEqual({ address: tn.addresses[0], balance: (1n << 64n) - 1n, canTransact: false, isAdmin: false });
  });

  it('reports text that is not JSON', () => {
    const r = parseGenesis('{"chainId": ');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad-json');
    expect(r.error.message).toMatch(/not valid JSON/);
  });

  const cases: [string, (j: Record<string, any>) => unknown, string, RegExp][] = [
    ['a non-object', () => [1, 2], '', /expected an object/],
    ['missing chainId', (j) => void delete j.chainId, 'chainId', /missing/],
    ['a numeric chainId', (j) => void (j.chainId = 7), 'chainId', /expected a string/],
    ['an empty chainId', (j) => void (j.chainId = ''), 'chainId', /1 to 64 bytes/],
    ['a long chainId', (j) => void (j.chainId = 'c'.repeat(65)), 'chainId', /1 to 64 bytes/],
    ['a chainId with spaces', (j) => void (j.chainId = 'my chain'), 'chainId', /letters, digits/],
    ['a fractional genesisTime', (j) => void (j.genesisTime = 1.5), 'genesisTime', /integer/],
    ['a negative genesisTime', (j) => void (j.genesisTime = -1), 'genesisTime', /between 0 and/],
    ['an unknown top-level field', (j) => void (j.chainID = 'x'), 'chainID', /unknown field/],
    ['missing validators', (j) => void delete j.validators, 'validators', /missing/],
    ['no validators', (j) => void (j.validators = []), 'validators', /1 to 256 entries/],
    ['too many validators', (j) => void (j.validators = Array.from({ length: 257 }, () => j.validators[0])), 'validators', /1 to 256 entries/],
    ['a short public key', (j) => void (j.validators[2].publicKey = 'abcd'), 'validators[2].publicKey', /expected 64 hex characters/],
    ['a non-hex public key', (j) => void (j.validators[2].publicKey = 'zz'.repeat(32)), 'validators[2].publicKey', /expected 64 hex characters/],
    ['duplicate validator keys', (j) => void (j.validators[3].publicKey = j.validators[1].publicKey, delete j.validators[3].address), 'validators[3].publicKey', /duplicates validators\[1\]\.publicKey/],
    ['duplicate validator names', (j) => void (j.validators[1].name = 'v0'), 'validators[1].name', /duplicates validators\[0\]\.name/],
    ['a bad validator name', (j) => void (j.validators[0].name = ''), 'validators[0].name', /letters, digits/],
    ['an address that does not match the key', (j) => void (j.validators[1].address = j.validators[0].address), 'validators[1].address', /does not match/],
    ['a host:port instead of a multiaddr', (j) => void (j.validators[0].p2p = '127.0.0.1:26656'), 'validators[0].p2p', /must start with/],
    ['a bad IPv4 address', (j) => void (j.validators[0].p2p = '/ip4/300.0.0.1/tcp/1'), 'validators[0].p2p', /IPv4/],
    ['port 0', (j) => void (j.validators[0].p2p = '/ip4/127.0.0.1/tcp/0'), 'validators[0].p2p', /tcp/],
    ['udp', (j) => void (j.validators[0].p2p = '/ip4/127.0.0.1/udp/1'), 'validators[0].p2p', /tcp/],
    ['trailing multiaddr junk', (j) => void (j.validators[0].p2p = '/ip4/127.0.0.1/tcp/1/quic'), 'validators[0].p2p', /unexpected/],
    ['duplicate p2p addresses', (j) => void (j.validators[2].p2p = j.validators[0].p2p), 'validators[2].p2p', /duplicates validators\[0\]\.p2p/],
    ['a non-http rpc', (j) => void (j.validators[1].rpc = 'ftp://host/'), 'validators[1].rpc', /http/],
    ['an unknown validator field', (j) => void (j.validators[1].power = 10), 'validators[1].power', /unknown field/],
    ['a negative balance', (j) => void (j.accounts[1].balance = '-1'), 'accounts[1].balance', /non-negative whole number/],
    ['a fractional balance', (j) => void (j.accounts[1].balance = '1.5'), 'accounts[1].balance', /non-negative whole number/],
    ['an exponent balance', (j) => void (j.accounts[1].balance = '1e3'), 'accounts[1].balance', /non-negative whole number/],
    ['a leading-zero balance', (j) => void (j.accounts[1].balance = '01'), 'accounts[1].balance', /leading zeros/],
    ['an empty balance', (j) => void (j.accounts[1].balance = ''), 'accounts[1].balance', /non-negative whole number/],
    ['a balance above u64', (j) => void (j.accounts[1].balance = '18446744073709551616'), 'accounts[1].balance', /u64/],
    ['a numeric balance', (j) => void (j.accounts[1].balance = 100), 'accounts[1].balance', /decimal string/],
    ['a missing balance', (j) => void delete j.accounts[0].balance, 'accounts[0].balance', /missing/],
    ['an uppercase address', (j) => void (j.accounts[0].address = j.accounts[0].address.toUpperCase()), 'accounts[0].address', /lowercase hex/],
    ['a short address', (j) => void (j.accounts[0].address = 'abcd'), 'accounts[0].address', /40 lowercase hex/],
    ['duplicate accounts', (j) => void (j.accounts[2].address = j.accounts[0].address), 'accounts[2].address', /duplicates accounts\[0\]\.address/],
    ['a non-boolean flag', (j) => void (j.accounts[0].canTransact = 'yes'), 'accounts[0].canTransact', /true or false/],
    ['a total supply above u64', (j) => void ((j.accounts[0].balance = (1n << 63n).toString()), (j.accounts[1].balance = (1n << 63n).toString())), 'accounts', /total balance/],
    ['maxBlockTxs 0', (j) => void (j.consensus.maxBlockTxs = 0), 'consensus.maxBlockTxs', /between 1 and 20000/],
    ['maxBlockTxs above the codec limit', (j) => void (j.consensus.maxBlockTxs = 20_001), 'consensus.maxBlockTxs', /between/],
    ['maxBlockBytes below one tx', (j) => void (j.consensus.maxBlockBytes = 1000), 'consensus.maxBlockBytes', /between/],
    ['a window below the checkpoint interval', (j) => void ((j.consensus.checkpointInterval = 20), (j.consensus.windowSize = 10)), 'consensus.windowSize', /at least checkpointInterval/],
    ['a max view timeout below the first', (j) => void ((j.consensus.viewTimeoutMs = 5000), (j.consensus.maxViewTimeoutMs = 1000)), 'consensus.maxViewTimeoutMs', /at least viewTimeoutMs/],
    ['a misspelt parameter', (j) => void (j.consensus.maxBlockTx = 5), 'consensus.maxBlockTx', /unknown field/],
    ['a string parameter', (j) => void (j.consensus.viewTimeoutMs = '1000'), 'consensus.viewTimeoutMs', /integer/],
  ];

  it.each(cases)('rejects %s, naming the field', (_name, mutate, field, message) => {
    const json = base() as unknown as Record<string, any>;
    const replaced = mutate(json);
    const error = rejects(replaced ?? json);
    expect(error.code).toBe('bad-field');
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field === '' ? 'genesis' : field}: `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('names the exact field in the message for a bad validator key', () => {
    const json = base();
    json.validators[2]!.publicKey = 'xyz';
    expect(rejects(json).message).toBe('validators[2].publicKey: expected 64 hex characters');
  });
});

describe('genesisHash', () => {
  const h = toHex(genesisHash(tn.genesis));
  const hashOf = (json: unknown): string => {
    const g = genesisFromJson(json);
    if (!g.ok) throw new Error(g.error.message);
    return toHex(genesisHash(g.value));
  };

  it('ignores formatting, key order, account order, names and endpoints', () => {
    const j = base();
    expect(hashOf(JSON.parse(JSON.stringify(j)))).toBe(h);
    const reordered = { consensus: j.consensus, accounts: [...j.accounts].reverse(), validators: j.validators, genesisTime: j.genesisTime, chainId: j.chainId };
    expect(hashOf(reordered)).toBe(h);
    const renamed = base();
    renamed.validators[0]!.name = 'alpha';
    renamed.validators[0]!.p2p = '/dns4/validator0.example.com/tcp/9000';
    delete renamed.validators[0]!.rpc;
    expect(hashOf(renamed)).toBe(h);
  });

  it('changes with anything that shapes the chain', () => {
    const mutations: ((j: GenesisJson) => void)[] = [
      (j) => void (j.chainId = 'other'),
      (j) => void (j.genesisTime += 1),
      (j) => void (j.accounts[0]!.balance = '1'),
      (j) => void (j.accounts[0]!.isAdmin = !j.accounts[0]!.isAdmin),
      (j) => void (j.accounts[1]!.canTransact = !j.accounts[1]!.canTransact),
      (j) => void j.accounts.pop(),
      (j) => void j.validators.reverse(),
      (j) => void (j.validators[0]!.publicKey = toHex(testKeyPair('other', 'validator', 0).publicKey), delete (j.validators[0] as { address?: string }).address),
      (j) => void (j.consensus.maxBlockTxs -= 1),
      (j) => void (j.consensus.viewTimeoutMs += 1),
    ];
    const seen = new Set([h]);
    for (const mutate of mutations) {
      const j = base();
      mutate(j);
      const hash = hashOf(j);
      expect(seen.has(hash)).toBe(false);
      seen.add(hash);
    }
  });
});

describe('genesisState', () => {
  it('holds every genesis account at nonce 0 and nothing else', () => {
    const state = genesisState(tn.genesis);
    for (const a of tn.genesis.accounts) {
      expect(state.getAccount(a.address)).toEqual({ balance: a.balance, nonce: 0n, canTransact: a.canTransact, isAdmin: a.isAdmin });
    }
    expect([...state.accounts()].length).toBe(tn.genesis.accounts.length);
    expect(state.getAccount(addressOf(tn.validatorKeys[0]!.publicKey))).toBeUndefined();
  });

  it('does not depend on account order, and equals the state built account by account', () => {
    const json = base();
    json.accounts.reverse();
    const g = genesisFromJson(json);
    if (!g.ok) throw new Error(g.error.message);
    const built = tn.genesis.accounts.reduce(
      (s, a) => s.withAccount(a.address, { balance: a.balance, nonce: 0n, canTransact: a.canTransact, isAdmin: a.isAdmin }),
      genesisState({ ...tn.genesis, accounts: [] }),
    );
    expect(genesisState(g.value).root).toEqual(genesisState(tn.genesis).root);
    expect(built.root).toEqual(genesisState(tn.genesis).root);
  });

  it('leaves out listed accounts that hold nothing', () => {
    const json = base();
    json.accounts.push({ address: addressOf(testKeyPair('x', 'y', 0).publicKey), balance: '0', canTransact: false, isAdmin: false });
    const g = genesisFromJson(json);
    if (!g.ok) throw new Error(g.error.message);
    expect(genesisState(g.value).root).toEqual(genesisState(tn.genesis).root);
  });

  it('writes JSON that lists every field explicitly', () => {
    const j = genesisToJsonValue(tn.genesis);
    expect(Object.keys(j.consensus).sort()).toEqual(Object.keys(DEFAULT_CONSENSUS_PARAMS).sort());
    expect(j.accounts[0]).toEqual({ address: tn.addresses[0], balance: '1000000', canTransact: true, isAdmin: true });
  });
});

describe('quorum arithmetic', () => {
  it('tolerates f = floor((n-1)/3) and needs n - f', () => {
    const table: [number, number, number][] = [
      [1, 0, 1],
      [2, 0, 2],
      [3, 0, 3],
      [4, 1, 3],
      [5, 1, 4],
      [6, 1, 5],
      [7, 2, 5],
      [10, 3, 7],
      [100, 33, 67],
    ];
    for (const [n, f, q] of table) {
      expect([faultTolerance(n), quorumSize(n)]).toEqual([f, q]);
      // Two quorums overlap in at least f + 1 validators.
      expect(2 * q - n).toBeGreaterThanOrEqual(f + 1);
    }
    expect(() => faultTolerance(0)).toThrow(RangeError);
  });
});
