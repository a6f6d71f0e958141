/**
 * The node config file, HOME/config.json. Relative paths in it are relative to HOME, so
 * a node home can be moved or copied as a whole. Every field has a default; an unknown
 * field is an error (a typo would otherwise be silently ignored).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { err, ok, type Result } from '../codec/result.js';

export const CONFIG_FILE = 'config.json';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface NodeConfig {
  /** A human name for logs and status. */
  readonly moniker: string;
  /** The genesis file (relative to HOME allowed). */
  readonly genesisFile: string;
  /** The validator's key file (relative to HOME allowed). */
  readonly keyFile: string;
  /** libp2p listen multiaddr, e.g. /ip4/0.0.0.0/tcp/26656. */
  readonly p2pListen: string;
  /** JSON-RPC listen address, host:port. */
  readonly rpcListen: string;
  readonly logLevel: LogLevel;
  /** The LevelDB directory (relative to HOME allowed). */
  readonly dataDir: string;
}

export const DEFAULT_NODE_CONFIG: NodeConfig = {
  moniker: 'node',
  genesisFile: 'genesis.json',
  keyFile: 'node.key.json',
  p2pListen: '/ip4/0.0.0.0/tcp/26656',
  rpcListen: '127.0.0.1:26657',
  logLevel: 'info',
  dataDir: 'data',
};

export interface ConfigError {
  /** The offending field ('' for the document as a whole). */
  readonly field: string;
  readonly message: string;
}

const MULTIADDR_RE = /^\/(?:ip4|ip6|dns|dns4|dns6)\/[^/\s]+\/tcp\/(\d{1,5})(?:\/[^\s]*)?$/;
const MONIKER_MAX = 64;

type FieldParser<T> = (value: unknown) => { ok: true; value: T } | { ok: false; why: string };

const nonEmptyString: FieldParser<string> = (value) =>
  typeof value === 'string' && value.length > 0 ? { ok: true, value } : { ok: false, why: 'must be a non-empty string' };

const FIELDS: { readonly [K in keyof NodeConfig]: FieldParser<NodeConfig[K]> } = {
  moniker: (value) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > MONIKER_MAX || /[\u0000-\u001f]/.test(value)) {
      return { ok: false, why: `must be 1..${MONIKER_MAX} printable characters` };
    }
    return { ok: true, value };
  },
  genesisFile: nonEmptyString,
  keyFile: nonEmptyString,
  dataDir: nonEmptyString,
  p2pListen: (value) => {
    const match = typeof value === 'string' ? MULTIADDR_RE.exec(value) : null;
    if (match === null || !isPort(Number(match[1]))) {
      return { ok: false, why: 'must be a TCP multiaddr such as /ip4/0.0.0.0/tcp/26656' };
    }
    return { ok: true, value: value as string };
  },
  rpcListen: (value) => {
    if (typeof value !== 'string' || parseHostPort(value) === undefined) {
      return { ok: false, why: 'must be host:port, such as 127.0.0.1:26657' };
    }
    return { ok: true, value };
  },
  logLevel: (value) =>
    typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)
      ? { ok: true, value: value as LogLevel }
      : { ok: false, why: `must be one of ${LOG_LEVELS.join(', ')}` },
};

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

/** Splits "host:port" or "[v6]:port"; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (!isPort(port)) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Parses config.json text; missing fields take their defaults. Never throws. */
export function parseNodeConfig(text: string): Result<NodeConfig, ConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err({ field: '', message: `config is not valid JSON (${(e as Error).message})` });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return err({ field: '', message: 'config must be a JSON object' });
  }
  const input = json as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!Object.hasOwn(FIELDS, field)) {
      return err({ field, message: `config field "${field}" is not known (known: ${Object.keys(FIELDS).join(', ')})` });
    }
  }
  const out: Record<string, unknown> = { ...DEFAULT_NODE_CONFIG };
  for (const [field, parse] of Object.entries(FIELDS) as [keyof NodeConfig, FieldParser<unknown>][]) {
    if (input[field] === undefined) continue;
    const parsed = parse(input[field]);
    if (!parsed.ok) return err({ field, message: `config field "${field}" ${parsed.why}` });
    out[field] = parsed.value;
  }
  return ok(out as unknown as NodeConfig);
}

export function nodeConfigToJson(config: NodeConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const field of Object.keys(FIELDS) as (keyof NodeConfig)[]) ordered[field] = config[field];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** `path` as an absolute path: relative paths in the config are relative to HOME. */
export function resolveInHome(home: string, path: string): string {
  return isAbsolute(path) ? path : resolve(home, path);
}

export interface ResolvedPaths {
  readonly home: string;
  readonly configFile: string;
  readonly genesisFile: string;
  readonly keyFile: string;
  readonly dataDir: string;
}

export function resolveConfigPaths(home: string, config: NodeConfig): ResolvedPaths {
  const absHome = resolve(home);
  return {
    home: absHome,
    configFile: join(absHome, CONFIG_FILE),
    genesisFile: resolveInHome(absHome, config.genesisFile),
    keyFile: resolveInHome(absHome, config.keyFile),
    dataDir: resolveInHome(absHome, config.dataDir),
  };
}

export type LoadConfigError = ConfigError & { readonly path: string };

/** Reads HOME/config.json. A missing file or bad content comes back as an error naming the file. */
export async function loadNodeConfig(home: string): Promise<Result<NodeConfig, LoadConfigError>> {
  const path = join(home, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)})`;
    return err({ path, field: '', message: `${path} ${why}` });
  }
  const parsed = parseNodeConfig(text);
  if (!parsed.ok) return err({ path, field: parsed.error.field, message: `${path}: ${parsed.error.message}` });
  return parsed;
}

/** Writes HOME/config.json (creating HOME); refuses to replace an existing file unless asked. */
export async function writeNodeConfig(home: string, config: NodeConfig, options: { overwrite?: boolean } = {}): Promise<void> {
  await mkdir(home, { recursive: true });
  await writeFile(join(home, CONFIG_FILE), nodeConfigToJson(config), { flag: options.overwrite === true ? 'w' : 'wx' });
}
