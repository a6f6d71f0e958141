import { describe, expect, it } from 'vitest';
import { PenaltyBox } from '../../src/net/penalties.js';

function box(threshold = 3) {
  let now = 1_000_000;
  const penalties = new PenaltyBox({ threshold, windowMs: 60_000, banMs: 30_000, logIntervalMs: 10_000 }, () => now);
  return { penalties, advance: (ms: number) => (now += ms), now: () => now };
}

describe('PenaltyBox', () => {
  it('bans a peer that reaches the threshold within one window, for banMs', () => {
    const { penalties, advance, now } = box(3);
    expect(penalties.record(1).bannedUntil).toBeUndefined();
    expect(penalties.record(1).bannedUntil).toBeUndefined();
    const third = penalties.record(1);
    expect(third.bannedUntil).toBe(now() + 30_000);
    expect(penalties.isBanned(1)).toBe(true);
    expect(penalties.isBanned(2)).toBe(false);
    advance(29_999);
    expect(penalties.isBanned(1)).toBe(true);
    advance(1);
    expect(penalties.isBanned(1)).toBe(false);
    expect(penalties.total(1)).toBe(3);
  });

  it('forgets penalties from an earlier window', () => {
    const { penalties, advance } = box(3);
    penalties.record(1);
    penalties.record(1);
    advance(60_000);
    expect(penalties.record(1).windowCount).toBe(1);
    expect(penalties.record(1).bannedUntil).toBeUndefined();
    expect(penalties.isBanned(1)).toBe(false);
  });

  it('logs at most once per interval per peer and counts what it suppressed', () => {
    const { penalties, advance } = box(1_000);
    expect(penalties.record(1).log).toBe(true);
    expect(penalties.record(1).log).toBe(false);
    expect(penalties.record(1).log).toBe(false);
    expect(penalties.record(2).log).toBe(true); // per peer
    advance(10_000);
    const next = penalties.record(1);
    expect(next.log).toBe(true);
    expect(next.suppressed).toBe(2);
  });
});
