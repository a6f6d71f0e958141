import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressOf } from '../../src/crypto/address.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { KeyFileError, keyFileJson, loadKeyFile, parseKeyFile, writeKeyFile } from '../../src/crypto/keyfile.js';

const keyPair = keyPairFromSeed(new Uint8Array(32).map((_, i) => i + 1));
const other = keyPairFromSeed(new Uint8Array(32).fill(0xee));
let dir = '';
let counter = 0;

/** A fresh path in the test's temp dir. */
function path(): string {
  counter += 1;
  return join(dir, `key-${counter}.json`);
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

/** The KeyFileError a call fails with (and fails the test if it does not). */
async function keyFileError(promise: Promise<unknown>): Promise<KeyFileError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    return error as KeyFileError;
  }
  throw new Error('expected a KeyFileError');
}

function parseError(text: string): KeyFileError {
  try {
    parseKeyFile('k.json', text);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    return error as KeyFileError;
  }
  throw new Error('expected a KeyFileError');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-keyfile-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('key files', () => {
  it('round-trip a key pair, with its address and public key readable in the JSON', async () => {
    const file = path();
    await writeKeyFile(file, keyPair);
    const loaded = await loadKeyFile(file);
    expect(loaded.keyPair.seed).toEqual(keyPair.seed);
    expect(loaded.keyPair.publicKey).toEqual(keyPair.publicKey);
    expect(loaded.address).toBe(addressOf(keyPair.publicKey));
    expect(loaded.warnings).toEqual([]);
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(json).toEqual({
      type: 'ed25519',
      address: addressOf(keyPair.publicKey),
      publicKey: Buffer.from(keyPair.publicKey).toString('hex'),
      privateKey: Buffer.from(keyPair.seed).toString('hex'),
    });
  });

  it('are written with mode 0600 even under a permissive umask', async () => {
    const previous = process.umask(0o000);
    try {
      const file = path();
      await writeKeyFile(file, keyPair);
      expect(await mode(file)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('refuse to overwrite an existing file unless asked, and keep it intact', async () => {
    const file = path();
    await writeKeyFile(file, keyPair);
    const error = await keyFileError(writeKeyFile(file, other));
    expect(error.reason).toMatch(/already exists/);
    expect(error.path).toBe(file);
    expect((await loadKeyFile(file)).keyPair.publicKey).toEqual(keyPair.publicKey);
  });

  it('tighten the mode of a file they overwrite on request', async () => {
    const file = path();
    await writeFile(file, 'old', { mode: 0o644 });
    await chmod(file, 0o644);
    await writeKeyFile(file, other, { overwrite: true });
    expect(await mode(file)).toBe(0o600);
    expect((await loadKeyFile(file)).keyPair.publicKey).toEqual(other.publicKey);
  });

  it('load with a warning when others may read them', async () => {
    for (const m of [0o640, 0o604, 0o644]) {
      const file = path();
      await writeKeyFile(file, keyPair);
      await chmod(file, m);
      const loaded = await loadKeyFile(file);
      expect(loaded.keyPair.publicKey).toEqual(keyPair.publicKey);
      expect(loaded.warnings).toHaveLength(1);
      expect(loaded.warnings[0]).toMatch(/readable by other users/);
      expect(loaded.warnings[0]).toContain('chmod 600');
    }
  });

  it('are refused when others may write them', async () => {
    for (const m of [0o620, 0o602, 0o666]) {
      const file = path();
      await writeKeyFile(file, keyPair);
      await chmod(file, m);
      const error = await keyFileError(loadKeyFile(file));
      expect(error.reason).toMatch(/writable by other users/);
      expect(error.reason).toContain(m.toString(8));
    }
  });

  it('report a missing file', async () => {
    const error = await keyFileError(loadKeyFile(join(dir, 'absent.json')));
    expect(error.reason).toMatch(/does not exist/);
  });

  it('report a public key or address that does not match the private key', async () => {
    const json = keyFileJson(keyPair);
    expect(parseError(JSON.stringify({ ...json, publicKey: Buffer.from(other.publicKey).toString('hex') })).reason).toMatch(/"publicKey" does not match/);
    expect(parseError(JSON.stringify({ ...json, address: addressOf(other.publicKey) })).reason).toMatch(/"address" does not match/);
    // The same through a file on disk.
    const file = path();
    await writeFile(file, JSON.stringify({ ...json, address: addressOf(other.publicKey) }), { mode: 0o600 });
    expect((await keyFileError(loadKeyFile(file))).reason).toMatch(/"address" does not match/);
  });

  it('report malformed content with a reason that names the problem', () => {
    const json = keyFileJson(keyPair);
    expect(parseError('{ not json').reason).toMatch(/not valid JSON/);
    expect(parseError('"a string"').reason).toMatch(/not a JSON object/);
    expect(parseError('null').reason).toMatch(/not a JSON object/);
    expect(parseError(JSON.stringify({ ...json, type: 'secp256k1' })).reason).toMatch(/"type" must be "ed25519"/);
    const { privateKey: _, ...withoutSeed } = json;
    expect(parseError(JSON.stringify(withoutSeed)).reason).toMatch(/"privateKey" is missing/);
    expect(parseError(JSON.stringify({ ...json, privateKey: json.privateKey.slice(0, 62) })).reason).toMatch(/"privateKey" must be 32 bytes/);
    expect(parseError(JSON.stringify({ ...json, privateKey: `${json.privateKey}00` })).reason).toMatch(/"privateKey" must be 32 bytes/);
    expect(parseError(JSON.stringify({ ...json, privateKey: 'zz'.repeat(32) })).reason).toMatch(/"privateKey" must be 32 bytes/);
  });

  it('parse a file without the informational fields', () => {
    const parsed = parseKeyFile('k.json', JSON.stringify({ type: 'ed25519', privateKey: Buffer.from(keyPair.seed).toString('hex') }));
    expect(parsed.publicKey).toEqual(keyPair.publicKey);
  });
});
