/**
 * The node configuration: HOME/config.json, overridable by environment variables and by
 * `ledger-node start` flags. Precedence, highest first: flag > environment > file >
 * default. Every field has a default, an environment variable LEDGER_<FIELD> (the field
 * name in upper snake case: rpcListen -> LEDGER_RPC_LISTEN) and a flag --<field> (kebab
 * case: rpcListen -> --rpc-listen). FIELDS below declares each once; the docs
 * (docs/config.md, `ledger-node start --help`) are generated from it.
 *
 * Relative paths are relative to HOME, so a node home can be moved or copied as a whole.
 * An unknown field in the file is an error (a typo would otherwise be silently ignored);
 * a bad value anywhere is an error naming its source (file, env or flag) and field.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { err, ok, type Result } from '../codec/result.js';

export const CONFIG_FILE = 'config.json';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface NodeConfig {
  /** A human name for logs and status. Default "node". */
  readonly moniker: string;
  /** The genesis file (relative to HOME allowed). Default "genesis.json". */
  readonly genesisFile: string;
  /** The validator's key file (relative to HOME allowed). Default "node.key.json". */
  readonly keyFile: string;
  /** The LevelDB directory (relative to HOME allowed). Default "data". */
  readonly dataDir: string;
  /** libp2p listen multiaddr. Default /ip4/0.0.0.0/tcp/26656. */
  readonly p2pListen: string;
  /** JSON-RPC (HTTP, WebSocket at /websocket, metrics at /metrics) listen address, host:port. Default 127.0.0.1:26657. */
  readonly rpcListen: string;
  /** Default "info". */
  readonly logLevel: LogLevel;
  /** Largest HTTP request body, in bytes (413 beyond). Default 1 MiB. */
  readonly rpcMaxBodyBytes: number;
  /** Concurrent HTTP connections (WebSockets have their own limit). Default 256. */
  readonly rpcMaxConnections: number;
  /** Most requests in one JSON-RPC batch. Default 100. */
  readonly rpcMaxBatch: number;
  /** Time to receive a request, and separately to answer it, in ms. Default 30000. */
  readonly rpcRequestTimeoutMs: number;
  /** Concurrent WebSocket connections; 0 turns the WebSocket endpoint off. Default 64. */
  readonly wsMaxConnections: number;
  /** Subscriptions per WebSocket connection. Default 32. */
  readonly wsMaxSubscriptions: number;
  /** Largest incoming WebSocket message, in bytes (the connection is closed with 1009 beyond). Default 1 MiB. */
  readonly wsMaxMessageBytes: number;
  /** Unsent bytes a WebSocket client may hold before it is cut as a slow consumer (1008). Default 8 MiB. */
  readonly wsMaxBufferedBytes: number;
  /** Serve Prometheus metrics at GET /metrics on the RPC port. Default true. */
  readonly metrics: boolean;
  /**
   * A secret bearer token that broadcast_tx_* calls must present (Authorization: Bearer
   * <token>); reads stay open. Empty (the default): no token is asked for. Prefer the
   * environment variable to config.json, and never log it.
   */
  readonly rpcAuthToken: string;
}

export const DEFAULT_NODE_CONFIG: NodeConfig = {
  moniker: 'node',
  genesisFile: 'genesis.json',
  keyFile: 'node.key.json',
  dataDir: 'data',
  p2pListen: '/ip4/0.0.0.0/tcp/26656',
  rpcListen: '127.0.0.1:26657',
  logLevel: 'info',
  rpcMaxBodyBytes: 1024 * 1024,
  rpcMaxConnections: 256,
  rpcMaxBatch: 100,
  rpcRequestTimeoutMs: 30_000,
  wsMaxConnections: 64,
  wsMaxSubscriptions: 32,
  wsMaxMessageBytes: 1024 * 1024,
  wsMaxBufferedBytes: 8 * 1024 * 1024,
  metrics: true,
  rpcAuthToken: '',
};

export type ConfigField = keyof NodeConfig;

/** Where a value came from. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export interface ConfigError {
  /** The offending field ('' for the document as a whole). */
  readonly field: string;
  /** One line naming the source and the field. */
  readonly message: string;
  readonly source?: ConfigSource;
}

// ---------------------------------------------------------------------------------------
// The fields

type Check<T> = { ok: true; value: T } | { ok: false; why: string };

interface FieldSpec<T> {
  readonly description: string;
  /** What a value looks like, for the docs and the flag's help: "host:port", "integer 1..65535". */
  readonly type: string;
  /** A value in config.json (JSON). */
  readonly fromJson: (value: unknown) => Check<T>;
  /** A value given as text (environment variable or flag). */
  readonly fromText: (text: string) => Check<T>;
}

/** RFC 6750's token68 characters, at least 16 of them (a short token is a guessable one). */
const RPC_TOKEN_RE = /^[A-Za-z0-9\-._~+/]{16,256}=*$/;
const MULTIADDR_RE = /^\/(?:ip4|ip6|dns|dns4|dns6)\/[^/\s]+\/tcp\/(\d{1,5})(?:\/[^\s]*)?$/;
const MONIKER_MAX = 64;
const KiB = 1024;
const MiB = 1024 * KiB;

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

function stringField(description: string, type: string, check: (value: string) => string | undefined): FieldSpec<string> {
  const fromJson = (value: unknown): Check<string> => {
    if (typeof value !== 'string') return { ok: false, why: `must be a string (${type})` };
    const why = check(value);
    return why === undefined ? { ok: true, value } : { ok: false, why };
  };
  return { description, type, fromJson, fromText: fromJson };
}

function integerField(description: string, min: number, max: number): FieldSpec<number> {
  const type = `integer ${min}..${max}`;
  const why = `must be an integer from ${min} to ${max}`;
  const inRange = (n: number): Check<number> => (Number.isSafeInteger(n) && n >= min && n <= max ? { ok: true, value: n } : { ok: false, why });
  return {
    description,
    type,
    fromJson: (value) => (typeof value === 'number' ? inRange(value) : { ok: false, why }),
    fromText: (text) => (/^[0-9]{1,16}$/.test(text) ? inRange(Number(text)) : { ok: false, why }),
  };
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function booleanField(description: string): FieldSpec<boolean> {
  const why = 'must be true or false';
  return {
    description,
    type: 'boolean',
    fromJson: (value) => (typeof value === 'boolean' ? { ok: true, value } : { ok: false, why }),
    fromText: (text) => {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, why: `${why} (or 1/0, yes/no, on/off)` };
    },
  };
}

const path = (description: string): FieldSpec<string> =>
  stringField(description, 'path', (v) => (v.length > 0 ? undefined : 'must be a non-empty path'));

/** Every field, in the order the file and the docs list them. */
const FIELDS: { readonly [K in ConfigField]: FieldSpec<NodeConfig[K]> } = {
  moniker: stringField('A human name for this node, in its logs.', 'text', (v) =>
    v.length === 0 || v.length > MONIKER_MAX || /[\u0000-\u001f]/.test(v) ? `must be 1..${MONIKER_MAX} printable characters` : undefined,
  ),
  genesisFile: path('The genesis file; relative paths are relative to HOME.'),
  keyFile: path("The validator's key file (made by `ledgerctl keys` / `testnet init`); relative to HOME allowed."),
  dataDir: path('The LevelDB directory (blocks, state, consensus WAL); relative to HOME allowed.'),
  p2pListen: stringField('The libp2p listen address, a TCP multiaddr.', 'multiaddr', (v) => {
    const match = MULTIADDR_RE.exec(v);
    return match !== null && isPort(Number(match[1])) ? undefined : 'must be a TCP multiaddr such as /ip4/0.0.0.0/tcp/26656';
  }),
  rpcListen: stringField(
    'The JSON-RPC listen address: POST / (JSON-RPC), GET /health, GET /metrics, GET /websocket. Listen on 127.0.0.1 unless others must reach it.',
    'host:port',
    (v) => (parseHostPort(v) === undefined ? 'must be host:port, such as 127.0.0.1:26657' : undefined),
  ),
  logLevel: {
    description: 'The least severe log level written (JSON lines on stdout).',
    type: LOG_LEVELS.join('|'),
    fromJson: (value) =>
      typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)
        ? { ok: true, value: value as LogLevel }
        : { ok: false, why: `must be one of ${LOG_LEVELS.join(', ')}` },
    fromText: (text) => FIELDS.logLevel.fromJson(text),
  },
  rpcMaxBodyBytes: integerField('The largest HTTP request body in bytes; a bigger one is answered 413.', KiB, 64 * MiB),
  rpcMaxConnections: integerField('Concurrent HTTP connections; more are dropped at once. WebSocket connections have their own limit.', 1, 65535),
  rpcMaxBatch: integerField('The most requests in one JSON-RPC batch.', 1, 10_000),
  rpcRequestTimeoutMs: integerField('Milliseconds to receive a request, and separately to answer it (then -32013).', 100, 600_000),
  wsMaxConnections: integerField('Concurrent WebSocket connections; more are refused with HTTP 503. 0 turns /websocket off.', 0, 65535),
  wsMaxSubscriptions: integerField('Subscriptions per WebSocket connection; more are refused (-32014).', 1, 10_000),
  wsMaxMessageBytes: integerField('The largest incoming WebSocket message in bytes; a bigger one closes the connection (1009).', KiB, 64 * MiB),
  wsMaxBufferedBytes: integerField(
    'Unsent bytes a WebSocket client may hold (it is not reading) before it is disconnected as a slow consumer (1008).',
    64 * KiB,
    1024 * MiB,
  ),
  metrics: booleanField('Serve Prometheus metrics at GET /metrics on the RPC port.'),
  rpcAuthToken: stringField(
    'A secret that broadcast_tx_* calls must present as "Authorization: Bearer <token>" (reads stay open); empty: none. ' +
      'Prefer the environment variable: flags show in process lists.',
    'token',
    (v) => (v === '' || RPC_TOKEN_RE.test(v) ? undefined : 'must be empty or 16..256 characters of A-Z a-z 0-9 - . _ ~ + / ='),
  ),
};

export const CONFIG_FIELDS = Object.keys(FIELDS) as readonly ConfigField[];

/** rpcMaxBodyBytes -> LEDGER_RPC_MAX_BODY_BYTES. */
export function envName(field: ConfigField): string {
  return `LEDGER_${field.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

/** rpcMaxBodyBytes -> rpc-max-body-bytes (commander turns it back into the field name). */
export function flagName(field: ConfigField): string {
  return field.replace(/([A-Z])/g, '-$1').toLowerCase();
}

/** LEDGER_ variables that are not config fields but are known (not typos). */
const OTHER_ENV = new Set(['LEDGER_DEBUG']);

export interface ConfigFieldDoc {
  readonly field: ConfigField;
  readonly env: string;
  readonly flag: string;
  readonly type: string;
  readonly default: NodeConfig[ConfigField];
  readonly description: string;
}

export function describeConfig(): ConfigFieldDoc[] {
  return CONFIG_FIELDS.map((field) => ({
    field,
    env: envName(field),
    flag: `--${flagName(field)}`,
    type: FIELDS[field].type,
    default: DEFAULT_NODE_CONFIG[field],
    description: FIELDS[field].description,
  }));
}

/** The reference table of docs/config.md (a test keeps the file in step with FIELDS). */
export function configTableMarkdown(): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = ['| field | env | flag | type | default | meaning |', '|---|---|---|---|---|---|'];
  for (const d of describeConfig()) {
    lines.push(`| \`${d.field}\` | \`${d.env}\` | \`${d.flag}\` | ${escape(d.type)} | \`${JSON.stringify(d.default)}\` | ${escape(d.description)} |`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------
// Parsing

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
    // JSON.parse quotes the text around the fault, newlines included: keep the error one line.
    const detail = (e as Error).message.replace(/\s+/g, ' ');
    return err({ source: 'file', field: '', message: `config is not valid JSON (${detail})` });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return err({ source: 'file', field: '', message: 'config must be a JSON object' });
  }
  const input = json as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!Object.hasOwn(FIELDS, field)) {
      // Quoted as JSON: a key may hold a newline or control characters, and the message is one line.
      return err({ source: 'file', field, message: `config field ${JSON.stringify(field)} is not known (known: ${CONFIG_FIELDS.join(', ')})` });
    }
  }
  const out: Record<string, unknown> = { ...DEFAULT_NODE_CONFIG };
  for (const field of CONFIG_FIELDS) {
    if (input[field] === undefined) continue;
    const parsed = (FIELDS[field] as FieldSpec<unknown>).fromJson(input[field]);
    if (!parsed.ok) return err({ source: 'file', field, message: `config field "${field}" ${parsed.why}` });
    out[field] = parsed.value;
  }
  return ok(out as unknown as NodeConfig);
}

/** Flag values as commander gives them: text, or a boolean for --metrics / --no-metrics. */
export type ConfigFlags = { readonly [K in ConfigField]?: string | boolean };

export interface ConfigOverrides {
  /** Environment variables (process.env); empty values count as unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: ConfigFlags;
}

/** Fields whose values are secrets: an error about one must not print it. */
const SECRET_FIELDS: ReadonlySet<ConfigField> = new Set<ConfigField>(['rpcAuthToken']);

function shown(field: ConfigField, text: string): string {
  return SECRET_FIELDS.has(field) ? `a value of ${text.length} characters, not shown` : quoted(text);
}

function quoted(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return JSON.stringify(shown);
}

/**
 * Applies environment variables, then flags, over a config read from the file (or the
 * defaults): flag > env > file > default. Never throws; the error names the source
 * ("environment variable LEDGER_X" / "flag --x") and the field.
 */
export function applyConfigOverrides(base: NodeConfig, overrides: ConfigOverrides): Result<NodeConfig, ConfigError> {
  const out: Record<string, unknown> = { ...base };
  const env = overrides.env ?? {};
  const flags = overrides.flags ?? {};
  for (const field of CONFIG_FIELDS) {
    const spec = FIELDS[field] as FieldSpec<unknown>;
    const name = envName(field);
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      const parsed = spec.fromText(fromEnv);
      if (!parsed.ok) return err({ source: 'env', field, message: `environment variable ${name}: ${field} ${parsed.why} (got ${shown(field, fromEnv)})` });
      out[field] = parsed.value;
    }
    const fromFlag = flags[field];
    if (fromFlag !== undefined) {
      const flag = `--${flagName(field)}`;
      const parsed = typeof fromFlag === 'boolean' ? spec.fromJson(fromFlag) : spec.fromText(fromFlag);
      if (!parsed.ok) return err({ source: 'flag', field, message: `flag ${flag}: ${field} ${parsed.why} (got ${shown(field, String(fromFlag))})` });
      out[field] = parsed.value;
    }
  }
  return ok(out as unknown as NodeConfig);
}

/** LEDGER_* variables that match no field (likely typos), for a warning. */
export function unknownEnvVars(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set(CONFIG_FIELDS.map(envName));
  return Object.keys(env).filter((name) => name.startsWith('LEDGER_') && !known.has(name) && !OTHER_ENV.has(name));
}

export function nodeConfigToJson(config: NodeConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) ordered[field] = config[field];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------
// Files and paths

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
    return err({ source: 'file', path, field: '', message: `${path} ${why}` });
  }
  const parsed = parseNodeConfig(text);
  if (!parsed.ok) return err({ source: 'file', path, field: parsed.error.field, message: `${path}: ${parsed.error.message}` });
  return parsed;
}

/** Writes HOME/config.json (creating HOME); refuses to replace an existing file unless asked. */
export async function writeNodeConfig(home: string, config: NodeConfig, options: { overwrite?: boolean } = {}): Promise<void> {
  await mkdir(home, { recursive: true });
  await writeFile(join(home, CONFIG_FILE), nodeConfigToJson(config), { flag: options.overwrite === true ? 'w' : 'wx' });
}
