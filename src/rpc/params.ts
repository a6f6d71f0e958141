import type { Result } from '../codec/result.js';

/**
 * Declarative method params: each method declares its params once, and that declaration
 * both parses a request's `params` and documents them (describeMethods).
 *
 * A request may give params by name (an object) or by position (an array, in declaration
 * order), or leave them out when none is required. Unknown names and surplus positions are
 * errors: a typo in an optional param must not silently fall back to the default.
 * A parse error is a string that starts with the param's name: "tx: must be base64".
 */

/** Checks one param value; the error says what is wrong, without the name. */
export type ValueParser<T> = (value: unknown) => Result<T, string>;

export interface ParamSpec<T> {
  /** A short type for the docs, such as "base64 string" or "integer 1..60000". */
  readonly type: string;
  readonly description: string;
  readonly optional: boolean;
  /** Used when an optional param is absent. */
  readonly defaultValue?: T;
  readonly parse: ValueParser<T>;
}

export interface ParamDoc {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  readonly optional: boolean;
  readonly default?: unknown;
}

export interface ParamError {
  /** The offending param ('' when the params as a whole are wrong). */
  readonly param: string;
  /** `<param>: <what is wrong>`. */
  readonly message: string;
}

export interface Params<P> {
  readonly parse: (raw: unknown) => Result<P, ParamError>;
  readonly docs: readonly ParamDoc[];
}

type ValueOf<S> = S extends ParamSpec<infer T> ? T : never;
export type ParamsOf<S extends Record<string, ParamSpec<unknown>>> = { readonly [K in keyof S]: ValueOf<S[K]> };

function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

function bad(message: string): Result<never, string> {
  return { ok: false, error: message };
}

export function required<T>(type: string, description: string, parse: ValueParser<T>): ParamSpec<T> {
  return { type, description, optional: false, parse };
}

export function optional<T>(spec: ParamSpec<T>, defaultValue: T): ParamSpec<T> {
  return { ...spec, optional: true, defaultValue };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Params given by name or position, checked against `specs` (whose key order is the position order). */
export function params<S extends Record<string, ParamSpec<unknown>>>(specs: S): Params<ParamsOf<S>> {
  const names = Object.keys(specs);
  const fail = (param: string, why: string): Result<never, ParamError> => ({
    ok: false,
    error: { param, message: param === '' ? why : `${param}: ${why}` },
  });
  const parse = (raw: unknown): Result<ParamsOf<S>, ParamError> => {
    let given: Record<string, unknown>;
    if (raw === undefined) {
      given = {};
    } else if (Array.isArray(raw)) {
      if (raw.length > names.length) return fail('', `expected at most ${names.length} positional params, got ${raw.length}`);
      given = {};
      raw.forEach((value, i) => {
        given[names[i] as string] = value;
      });
    } else if (isPlainObject(raw)) {
      given = raw;
      for (const name of Object.keys(raw)) {
        if (!Object.hasOwn(specs, name)) return fail(name, 'unknown param');
      }
    } else {
      return fail('', 'params must be an object or an array');
    }
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const spec = specs[name] as ParamSpec<unknown>;
      const value = Object.hasOwn(given, name) ? given[name] : undefined;
      if (value === undefined) {
        if (!spec.optional) return fail(name, `required (${spec.type})`);
        out[name] = spec.defaultValue;
        continue;
      }
      const parsed = spec.parse(value);
      if (!parsed.ok) return fail(name, parsed.error);
      out[name] = parsed.value;
    }
    return ok(out as ParamsOf<S>);
  };
  const docs = names.map((name): ParamDoc => {
    const spec = specs[name] as ParamSpec<unknown>;
    const doc = { name, type: spec.type, description: spec.description, optional: spec.optional };
    return spec.optional ? { ...doc, default: spec.defaultValue } : doc;
  });
  return { parse, docs };
}

export const noParams: Params<Record<string, never>> = params({});

// ---------------------------------------------------------------------------------------
// Value parsers

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding (RFC 4648 section 4), decoding to 1..maxBytes bytes. */
export function base64Bytes(maxBytes: number): ValueParser<Uint8Array> {
  const maxChars = Math.ceil(maxBytes / 3) * 4;
  return (value) => {
    if (typeof value !== 'string') return bad('must be a base64 string');
    if (value.length === 0) return bad('must not be empty');
    if (value.length > maxChars) return bad(`must decode to at most ${maxBytes} bytes`);
    if (!BASE64_RE.test(value)) return bad('must be standard base64 with padding');
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length > maxBytes) return bad(`must decode to at most ${maxBytes} bytes`);
    return ok(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
}

export function integer(min: number, max: number): ValueParser<number> {
  return (value) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? ok(value)
      : bad(`must be an integer from ${min} to ${max}`);
}

const HASH_HEX_RE = /^[0-9a-fA-F]{64}$/;

/** A 32-byte hash as 64 hex digits (either case), returned lowercase. */
export const hashHex: ValueParser<string> = (value) =>
  typeof value === 'string' && HASH_HEX_RE.test(value) ? ok(value.toLowerCase()) : bad('must be 64 hex digits');

/** An account address: 40 hex digits (either case), returned lowercase. */
export const address: ValueParser<string> = (value) =>
  typeof value === 'string' && /^[0-9a-fA-F]{40}$/.test(value) ? ok(value.toLowerCase()) : bad('must be an address (40 hex digits)');

export const boolean: ValueParser<boolean> = (value) => (typeof value === 'boolean' ? ok(value) : bad('must be true or false'));

/** One of the given strings. */
export function oneOf<T extends string>(values: readonly T[]): ValueParser<T> {
  return (value) =>
    typeof value === 'string' && (values as readonly string[]).includes(value) ? ok(value as T) : bad(`must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
}

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib typings.
type MaybeWellFormed = string & { isWellFormed(): boolean };

/** A text of 1..maxBytes UTF-8 bytes without lone surrogates (which have no UTF-8 form). */
export function utf8Text(maxBytes: number): ValueParser<string> {
  return (value) => {
    if (typeof value !== 'string') return bad('must be a string');
    if (!(value as MaybeWellFormed).isWellFormed()) return bad('must be well-formed Unicode');
    const bytes = Buffer.byteLength(value, 'utf8');
    return bytes >= 1 && bytes <= maxBytes ? ok(value) : bad(`must be 1 to ${maxBytes} UTF-8 bytes`);
  };
}
