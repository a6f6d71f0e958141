import { describe, expect, it } from 'vitest';
import { describeMethods, METHODS, method, methodTable } from '../../src/rpc/methods.js';
import { base64Bytes, hashHex, integer, noParams, optional, params, required } from '../../src/rpc/params.js';

describe('the method table', () => {
  it('declares each method once, with a description and documented params', () => {
    const names = METHODS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['broadcast_tx_async', 'broadcast_tx_sync', 'broadcast_tx_commit', 'status', 'health']));
    const docs = describeMethods();
    for (const doc of docs) expect(doc.description.length).toBeGreaterThan(20);
    const commit = docs.find((d) => d.name === 'broadcast_tx_commit')!;
    expect(commit.params.map((p) => [p.name, p.optional])).toEqual([
      ['tx', false],
      ['timeout_ms', true],
    ]);
    expect(commit.params[1]!.default).toBe(10_000);
  });

  it('refuses two methods with one name', () => {
    const twin = method({ name: 'status', description: 'Again.', params: noParams, handler: async () => 1 });
    expect(() => methodTable([...METHODS, twin])).toThrow(/twice/);
  });
});

describe('params', () => {
  const p = params({
    a: required('integer 0..9', 'A digit.', integer(0, 9)),
    b: optional(required('hex hash', 'A hash.', hashHex), 'none'),
  });

  it('takes params by name or by position, and fills defaults', () => {
    expect(p.parse({ a: 3 })).toEqual({ ok: true, value: { a: 3, b: 'none' } });
    expect(p.parse([3, 'AB'.repeat(32)])).toEqual({ ok: true, value: { a: 3, b: 'ab'.repeat(32) } });
    expect(p.parse([3])).toEqual({ ok: true, value: { a: 3, b: 'none' } });
    expect(noParams.parse(undefined)).toEqual({ ok: true, value: {} });
    expect(noParams.parse([])).toEqual({ ok: true, value: {} });
  });

  it('names the param at fault', () => {
    const fault = (raw: unknown): unknown => {
      const r = p.parse(raw);
      return r.ok ? 'ok' : r.error;
    };
    expect(fault({})).toEqual({ param: 'a', message: 'a: required (integer 0..9)' });
    expect(fault({ a: 10 })).toMatchObject({ param: 'a' });
    expect(fault({ a: 1, b: 'xyz' })).toMatchObject({ param: 'b', message: 'b: must be 64 hex digits' });
    expect(fault({ a: 1, c: 2 })).toMatchObject({ param: 'c', message: 'c: unknown param' });
    expect(fault([1, 'ab'.repeat(32), 3])).toMatchObject({ param: '' });
    expect(fault('a=1')).toMatchObject({ param: '' });
  });

  it('accepts only canonical, padded standard base64 within the size', () => {
    const parse = base64Bytes(4);
    expect(parse('AQID')).toEqual({ ok: true, value: Uint8Array.of(1, 2, 3) });
    expect(parse('AQIDBA==')).toEqual({ ok: true, value: Uint8Array.of(1, 2, 3, 4) });
    for (const bad of ['', 'AQI', 'AQIDBA', 'AQ-_', 'AQID\n', 'AQIDBAU=', 'A===', 5, null]) expect(parse(bad).ok, String(bad)).toBe(false);
  });
});
