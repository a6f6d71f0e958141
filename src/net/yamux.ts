/**
 * Yamux, as @chainsafe/libp2p-yamux builds it, but granting receive window the way the Go
 * and Rust implementations (and the yamux spec's intent) do: once at least half of the
 * window has been used, not after every data frame.
 *
 * Why: the JS muxer answers every data frame it receives with a WINDOW_UPDATE frame. Our
 * consensus messages are small and mostly travel one per frame, so half of all the frames
 * between validators carried nothing but window credit, each one encrypted, written to the
 * socket (waking the peer's process) and decrypted there. At 100 tx/s, sending them took
 * 4.0 s of 160 s sampled over four nodes (2.5%), before counting the peer's side.
 *
 * Flow control is unchanged in substance: a sender still stops at a full window, and it can
 * never wait forever, because a receiver that has taken a full window has taken more than
 * half of it and so sends the credit at once. Updates that carry a flag (SYN, ACK) and the
 * update on resuming a paused stream go out as before: only the plain credit of an
 * established stream waits for the half-window mark.
 *
 * This reaches into yamux's muxer and stream objects, which are not public API. When a
 * future yamux no longer has that shape, nothing is patched, the library runs as shipped
 * (correct, just chattier), and `onUnpatched` says so once; a test fails on it too.
 */
import { yamux } from '@chainsafe/libp2p-yamux';
import type { StreamMuxerFactory } from '@libp2p/interface';

/** YamuxStream's state once SYN and ACK have been exchanged (its StreamState.Established). */
const ESTABLISHED = 3;

interface PatchableStream {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate: () => void;
}

function isPatchableStream(stream: unknown): stream is PatchableStream {
  const s = stream as Partial<PatchableStream> | null;
  return (
    typeof s?.sendWindowUpdate === 'function' &&
    typeof s.state === 'number' &&
    typeof s.recvWindow === 'number' &&
    typeof s.recvWindowCapacity === 'number'
  );
}

/**
 * Makes `stream` hold back plain window credit until half its receive window is used;
 * false (and no change) when it does not have the shape this was written against.
 */
export function deferWindowUpdates(stream: unknown): boolean {
  if (!isPatchableStream(stream)) return false;
  const sendWindowUpdate = stream.sendWindowUpdate.bind(stream);
  stream.sendWindowUpdate = () => {
    const used = stream.recvWindow - stream.recvWindowCapacity;
    if (stream.state === ESTABLISHED && used < stream.recvWindow / 2) return;
    sendWindowUpdate();
  };
  return true;
}

interface PatchableMuxer {
  _newStream: (...args: unknown[]) => unknown;
}

/** Drop-in for `yamux()`; `onUnpatched` is called (once) if a muxer or stream kept per-frame window updates. */
export function quietYamux(onUnpatched: () => void): () => StreamMuxerFactory {
  const build = yamux();
  let warned = false;
  const unpatched = (): void => {
    if (warned) return;
    warned = true;
    onUnpatched();
  };
  return () => {
    const factory = build();
    const createStreamMuxer = factory.createStreamMuxer.bind(factory);
    // Shadowed on the instance, so everything else about the factory stays yamux's own.
    factory.createStreamMuxer = (connection) => {
      const muxer = createStreamMuxer(connection);
      const patchable = muxer as unknown as Partial<PatchableMuxer>;
      if (typeof patchable._newStream !== 'function') {
        unpatched();
        return muxer;
      }
      // Every stream, ours and the remote's, is made here (before its first frame goes out).
      const newStream = patchable._newStream.bind(muxer);
      patchable._newStream = (...args: unknown[]) => {
        const stream = newStream(...args);
        if (!deferWindowUpdates(stream)) unpatched();
        return stream;
      };
      return muxer;
    };
    return factory;
  };
}
