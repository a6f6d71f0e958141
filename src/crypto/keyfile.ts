import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { addressOf, type Address } from './address.js';
import { toHex, tryFromHex } from './bytes.js';
import { keyPairFromSeed, SEED_LENGTH, type KeyPair } from './ed25519.js';

/**
 * A key file is JSON: the key type, the address and public key (so `keys show` and
 * operators can read them without the secret), and the private seed. It is written with
 * mode 0600; loading one that others may read yields a warning, and one that others may
 * write is refused (anyone could swap the validator's identity).
 */
export interface KeyFileJson {
  readonly type: 'ed25519';
  readonly address: Address;
  readonly publicKey: string;
  readonly privateKey: string;
}

export class KeyFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`key file ${path}: ${reason}`);
    this.name = 'KeyFileError';
  }
}

export interface LoadedKey {
  readonly keyPair: KeyPair;
  readonly address: Address;
  /** Non-fatal findings, such as permissions that are too open. */
  readonly warnings: readonly string[];
}

export function keyFileJson(keyPair: KeyPair): KeyFileJson {
  return {
    type: 'ed25519',
    address: addressOf(keyPair.publicKey),
    publicKey: toHex(keyPair.publicKey),
    privateKey: toHex(keyPair.seed),
  };
}

export async function writeKeyFile(path: string, keyPair: KeyPair, options: { overwrite?: boolean } = {}): Promise<void> {
  const text = `${JSON.stringify(keyFileJson(keyPair), null, 2)}\n`;
  try {
    await writeFile(path, text, { mode: 0o600, flag: options.overwrite === true ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileError(path, 'already exists (refusing to overwrite a key)');
    throw err;
  }
  // The mode passed to open() is filtered by the umask, and an overwrite keeps the old mode.
  await chmod(path, 0o600);
}

/** Parses key file JSON text, checking that the stored public key and address match the seed. */
export function parseKeyFile(path: string, text: string): KeyPair {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(path, 'is not valid JSON');
  }
  if (typeof json !== 'object' || json === null) throw new KeyFileError(path, 'is not a JSON object');
  const record = json as Record<string, unknown>;
  if (record.type !== 'ed25519') throw new KeyFileError(path, 'field "type" must be "ed25519"');
  if (typeof record.privateKey !== 'string') throw new KeyFileError(path, 'field "privateKey" is missing');
  const seed = tryFromHex(record.privateKey);
  if (seed === undefined || seed.length !== SEED_LENGTH) {
    throw new KeyFileError(path, `field "privateKey" must be ${SEED_LENGTH} bytes of hex`);
  }
  const keyPair = keyPairFromSeed(seed);
  if (record.publicKey !== undefined && record.publicKey !== toHex(keyPair.publicKey)) {
    throw new KeyFileError(path, 'field "publicKey" does not match the private key');
  }
  if (record.address !== undefined && record.address !== addressOf(keyPair.publicKey)) {
    throw new KeyFileError(path, 'field "address" does not match the private key');
  }
  return keyPair;
}

export async function loadKeyFile(path: string): Promise<LoadedKey> {
  let info;
  let text;
  try {
    info = await stat(path);
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeyFileError(path, 'does not exist');
    if (code === 'EACCES') throw new KeyFileError(path, 'cannot be read (permission denied)');
    throw new KeyFileError(path, `cannot be read (${code ?? String(err)})`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new KeyFileError(path, `is writable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
  const warnings: string[] = [];
  if ((info.mode & 0o044) !== 0) {
    warnings.push(`key file ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
  const keyPair = parseKeyFile(path, text);
  return { keyPair, address: addressOf(keyPair.publicKey), warnings };
}

