/**
 * Results for everything decoded from outside: a decoder returns a value or a typed
 * error, never an exception that escapes its module.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/**
 * - `truncated`: the input ends before the value does.
 * - `trailing-bytes`: the value ends before the input does.
 * - `too-large`: a length, count or total size is above its protocol limit.
 * - `invalid-tag`: an unknown union tag or format version.
 * - `invalid-value`: well-formed bytes that are not a value of the field's type (bad
 *   UTF-8, a u64 that does not fit a JS safe integer, a validator index out of range).
 * - `non-canonical`: a value with one valid encoding was given another (a boolean byte
 *   other than 0/1, an unsorted or duplicated signature list).
 */
export type CodecErrorCode = 'truncated' | 'trailing-bytes' | 'too-large' | 'invalid-tag' | 'invalid-value' | 'non-canonical';

export interface CodecError {
  readonly code: CodecErrorCode;
  readonly message: string;
  /** Byte offset in the input at which the fault was found. */
  readonly offset: number;
}
