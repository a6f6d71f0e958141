import { describe, expect, it } from 'vitest';
import { deferWindowUpdates } from '../../src/net/yamux.js';

const ESTABLISHED = 3;
const SYN_RECEIVED = 2;
const PAUSED = 5;

/** YamuxStream as far as deferWindowUpdates looks at it; counts the updates that go out. */
function fakeStream(state: number, recvWindow = 256 * 1024) {
  const stream = {
    state,
    recvWindow,
    recvWindowCapacity: recvWindow,
    sent: 0,
    sendWindowUpdate(): void {
      stream.sent++;
      stream.recvWindowCapacity = stream.recvWindow;
    },
    /** What yamux does on a data frame: take the bytes from the window, then offer credit. */
    receive(bytes: number): void {
      stream.recvWindowCapacity -= bytes;
      stream.sendWindowUpdate();
    },
  };
  return stream;
}

describe('deferWindowUpdates', () => {
  it('grants credit on an established stream once half the window is used, not per frame', () => {
    const stream = fakeStream(ESTABLISHED);
    expect(deferWindowUpdates(stream)).toBe(true);
    for (let k = 0; k < 127; k++) stream.receive(1024);
    expect(stream.sent).toBe(0);
    stream.receive(1024); // 128 KiB used: half of 256 KiB
    expect(stream.sent).toBe(1);
    expect(stream.recvWindowCapacity).toBe(stream.recvWindow);
    // A sender that used its whole window always gets credit at once.
    stream.receive(stream.recvWindow);
    expect(stream.sent).toBe(2);
  });

  it('sends flagged updates (SYN/ACK) and updates of a paused stream as yamux would', () => {
    for (const state of [0, 1, SYN_RECEIVED, PAUSED]) {
      const stream = fakeStream(state);
      deferWindowUpdates(stream);
      stream.receive(10);
      expect(stream.sent).toBe(1);
    }
  });

  it('leaves any other shape alone', () => {
    const update = (): void => {};
    for (const stream of [null, {}, { sendWindowUpdate: update, state: 'open', recvWindow: 1, recvWindowCapacity: 1 }, { sendWindowUpdate: update, state: 3 }]) {
      expect(deferWindowUpdates(stream)).toBe(false);
      if (stream !== null && 'sendWindowUpdate' in stream) expect(stream.sendWindowUpdate).toBe(update);
    }
  });
});
