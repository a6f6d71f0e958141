import { describe, expect, it } from 'vitest';
import { CatchUp, MAX_SYNC_AHEAD } from '../../src/consensus/catch-up.js';
import { CHAIN_ID, cryptoFor, validatorKeys } from './harness.js';

const RETRANSMIT_MS = 200;

function catchUpAt(committedHeight: number): CatchUp {
  const validators = validatorKeys(4);
  return new CatchUp({ chainId: CHAIN_ID, validators, crypto: cryptoFor(validators[0]!) }, RETRANSMIT_MS, 16, committedHeight);
}

describe('CatchUp.fetchRange', () => {
  it('asks for nothing while the replica is at most one height behind and making progress', () => {
    const catchUp = catchUpAt(10);
    expect(catchUp.fetchRange(0, 10, 0)).toBeUndefined();
    catchUp.learn(11);
    expect(catchUp.fetchRange(50, 10, 0)).toBeUndefined();
    expect(catchUp.fetchRange(RETRANSMIT_MS, 10, 0)).toEqual({ fromHeight: 11, toHeight: 11 });
  });

  it('asks for at most MAX_SYNC_AHEAD heights from the commit point', () => {
    const catchUp = catchUpAt(0);
    catchUp.learn(5_000);
    expect(catchUp.fetchRange(0, 0, 0)).toEqual({ fromHeight: 1, toHeight: MAX_SYNC_AHEAD });
    expect(catchUp.fetchRange(20, 0, 0)).toBeUndefined(); // under way
  });

  it('asks for the next range, past the one under way, once less than half of it is left to commit', () => {
    const catchUp = catchUpAt(0);
    catchUp.learn(5_000);
    catchUp.fetchRange(0, 0, 0);
    const half = MAX_SYNC_AHEAD / 2;
    expect(catchUp.fetchRange(20, half, 20)).toBeUndefined(); // exactly half left
    expect(catchUp.fetchRange(40, half + 1, 40)).toEqual({ fromHeight: MAX_SYNC_AHEAD + 1, toHeight: half + 1 + MAX_SYNC_AHEAD });
    expect(catchUp.fetchRange(60, half + 2, 60)).toBeUndefined(); // the new range is under way, and full
  });

  it('does not ask past what is known to be committed', () => {
    const catchUp = catchUpAt(0);
    catchUp.learn(MAX_SYNC_AHEAD);
    catchUp.fetchRange(0, 0, 0);
    expect(catchUp.fetchRange(20, MAX_SYNC_AHEAD - 10, 20)).toBeUndefined();
    catchUp.learn(MAX_SYNC_AHEAD + 5);
    expect(catchUp.fetchRange(40, MAX_SYNC_AHEAD - 10, 40)).toEqual({ fromHeight: MAX_SYNC_AHEAD + 1, toHeight: MAX_SYNC_AHEAD + 5 });
  });

  it('starts again from the commit point when a fetch went quiet (a peer that answered part of it, say)', () => {
    const catchUp = catchUpAt(0);
    catchUp.learn(5_000);
    catchUp.fetchRange(0, 0, 0);
    // Stuck at 100: heights 101.. never came. The refill went out at once; after that, only
    // the retry from the commit point can fill the hole.
    expect(catchUp.fetchRange(20, 100, 20)).toBeUndefined(); // most of the range still to commit
    expect(catchUp.fetchRange(2 * RETRANSMIT_MS - 1, 100, 20)).toBeUndefined();
    expect(catchUp.fetchRange(2 * RETRANSMIT_MS, 100, 20)).toEqual({ fromHeight: 101, toHeight: 100 + MAX_SYNC_AHEAD });
  });
});
