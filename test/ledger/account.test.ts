import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_BYTES, decodeAccount, EMPTY_ACCOUNT, encodeAccount, isEmptyAccount } from '../../src/ledger/account.js';

const account = fc.record({
  balance: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  canTransact: fc.boolean(),
  isAdmin: fc.boolean(),
});

describe('account encoding', () => {
  it('round-trips every account in exactly ACCOUNT_BYTES bytes', () => {
    fc.assert(
      fc.property(account, (a) => {
        const bytes = encodeAccount(a);
        expect(bytes.length).toBe(ACCOUNT_BYTES);
        expect(decodeAccount(bytes)).toEqual({ ok: true, value: a });
      }),
    );
  });

  it('lays out balance, nonce, then the two flags', () => {
    const bytes = encodeAccount({ balance: 0x0102n, nonce: 3n, canTransact: true, isAdmin: false });
    expect(Array.from(bytes)).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0]);
  });

  it('refuses truncated, trailing and non-canonical bytes', () => {
    const bytes = encodeAccount({ balance: 5n, nonce: 1n, canTransact: true, isAdmin: true });
    const code = (b: Uint8Array): string | undefined => {
      const r = decodeAccount(b);
      return r.ok ? undefined : r.error.code;
    };
    expect(code(bytes.subarray(0, ACCOUNT_BYTES - 1))).toBe('truncated');
    expect(code(Uint8Array.of(...bytes, 0))).toBe('trailing-bytes');
    const badFlag = Uint8Array.from(bytes);
    badFlag[16] = 2;
    expect(code(badFlag)).toBe('non-canonical');
  });

  it('knows the empty account', () => {
    expect(isEmptyAccount(EMPTY_ACCOUNT)).toBe(true);
    expect(isEmptyAccount({ ...EMPTY_ACCOUNT, nonce: 1n })).toBe(false);
    expect(isEmptyAccount({ ...EMPTY_ACCOUNT, canTransact: true })).toBe(false);
    expect(isEmptyAccount({ ...EMPTY_ACCOUNT, isAdmin: true })).toBe(false);
    expect(isEmptyAccount({ ...EMPTY_ACCOUNT, balance: 1n })).toBe(false);
  });
});
