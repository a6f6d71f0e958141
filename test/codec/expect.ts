/** Assertions shared by the codec tests. */
import { expect } from 'vitest';
import type { CodecError, CodecErrorCode, Result } from '../../src/codec/result.js';

/** Asserts a decode failed with `code` (and, if given, at `offset`) and returns the error. */
export function expectError<T>(result: Result<T, CodecError>, code: CodecErrorCode, offset?: number): CodecError {
  if (result.ok) throw new Error(`expected a '${code}' error, decoded a value`);
  expect(result.error.code, result.error.message).toBe(code);
  if (offset !== undefined) expect(result.error.offset, result.error.message).toBe(offset);
  expect(result.error.message).not.toMatch(/internal decoder error/);
  return result.error;
}

/** Asserts a decode succeeded and returns the value. */
export function expectOk<T>(result: Result<T, CodecError>): T {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.code} at ${result.error.offset}: ${result.error.message}`);
  return result.value;
}

/** `bytes` as a fresh, private Uint8Array (safe to mutate: encoders may share their output). */
export function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

export function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** Byte equality that stays fast on megabytes (toEqual walks elements one by one); shows a diff only on failure. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (!a.equals(expected)) expect(actual).toEqual(expected);
}
