import { existsSync } from 'node:fs';
import { Level } from 'level';
import { StoreError } from './errors.js';
import { SUBLEVELS } from './layout.js';

/** A sublevel with raw byte keys and values. */
export type ByteLevel = ReturnType<typeof openSublevel>;

export interface StoreDb {
  readonly root: Level<Uint8Array, Uint8Array>;
  readonly meta: ByteLevel;
  readonly block: ByteLevel;
  readonly cert: ByteLevel;
  readonly blockHash: ByteLevel;
  readonly tx: ByteLevel;
  readonly state: ByteLevel;
  readonly header: ByteLevel;
  readonly sender: ByteLevel;
}

function openSublevel(root: Level<Uint8Array, Uint8Array>, name: string) {
  return root.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' });
}

export interface OpenDbOptions {
  /** The node home, named in the 'in-use' message. */
  readonly home: string;
  /** The LevelDB directory. */
  readonly location: string;
  /** Create the database if it does not exist (default true). */
  readonly createIfMissing?: boolean;
}

/**
 * Opens the LevelDB and its sublevels. LevelDB takes an exclusive lock on its directory;
 * classic-level reports a held lock as LEVEL_DATABASE_NOT_OPEN with cause LEVEL_LOCKED,
 * both from another process and from a second handle in this one.
 */
export async function openDb(options: OpenDbOptions): Promise<StoreDb> {
  if (options.createIfMissing === false && !existsSync(options.location)) {
    throw new StoreError('missing', `node home ${options.home} has no store (${options.location} does not exist)`);
  }
  const root = new Level<Uint8Array, Uint8Array>(options.location, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  try {
    await root.open({ createIfMissing: options.createIfMissing ?? true });
  } catch (err) {
    throw translateOpenError(err, options);
  }
  return {
    root,
    meta: openSublevel(root, SUBLEVELS.meta),
    block: openSublevel(root, SUBLEVELS.block),
    cert: openSublevel(root, SUBLEVELS.cert),
    blockHash: openSublevel(root, SUBLEVELS.blockHash),
    tx: openSublevel(root, SUBLEVELS.tx),
    state: openSublevel(root, SUBLEVELS.state),
    header: openSublevel(root, SUBLEVELS.header),
    sender: openSublevel(root, SUBLEVELS.sender),
  };
}

function translateOpenError(err: unknown, options: OpenDbOptions): StoreError {
  const code = levelCode(err);
  const cause = err instanceof Error ? err.cause : undefined;
  const causeCode = levelCode(cause);
  if (code === 'LEVEL_LOCKED' || causeCode === 'LEVEL_LOCKED') {
    return new StoreError('in-use', `node home ${options.home} is in use by another process`, { cause: err });
  }
  const detail = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  if (causeCode === 'LEVEL_CORRUPTION') {
    return new StoreError('corrupt', `store ${options.location}: LevelDB reports corruption: ${detail}`, { cause: err });
  }
  return new StoreError('io', `store ${options.location} cannot be opened: ${detail}`, { cause: err });
}

/** Wraps a LevelDB failure during normal operation as an 'io' StoreError. */
export function ioError(what: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreError('io', `${what}: ${detail}`, { cause: err });
}

function levelCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
