/**
 * '/ledger/sync/1': one stream per request. The client sends one frame holding
 * {fromHeight u64, toHeight u64} (big-endian) and closes its writable end; the server
 * answers with zero or more frames, one already-encoded item each, then closes. Both ends
 * bound the response (items and bytes); the server sends a prefix that fits, so a client
 * asks again from where the answer stopped.
 */
import type { Stream } from '@libp2p/interface';
import { err, ok, type Result } from '../codec/result.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, type FrameError } from './framing.js';

export const SYNC_PROTOCOL = '/ledger/sync/1';
export const SYNC_REQUEST_BYTES = 16;

export interface SyncRequest {
  readonly fromHeight: number;
  readonly toHeight: number;
}

export interface SyncLimits {
  /** Items in one response. */
  readonly maxItems: number;
  /** Total item bytes in one response (frame headers not counted). */
  readonly maxBytes: number;
  /** Bytes of one item (its frame). */
  readonly maxFrameBytes: number;
}

export function isValidSyncRequest(request: SyncRequest): boolean {
  return (
    Number.isSafeInteger(request.fromHeight) &&
    Number.isSafeInteger(request.toHeight) &&
    request.fromHeight >= 0 &&
    request.fromHeight <= request.toHeight
  );
}

export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  const bytes = new Uint8Array(SYNC_REQUEST_BYTES);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(request.fromHeight), false);
  view.setBigUint64(8, BigInt(request.toHeight), false);
  return bytes;
}

export function decodeSyncRequest(bytes: Uint8Array): Result<SyncRequest, string> {
  if (bytes.length !== SYNC_REQUEST_BYTES) return err(`a sync request is ${SYNC_REQUEST_BYTES} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const from = view.getBigUint64(0, false);
  const to = view.getBigUint64(8, false);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (from > max || to > max) return err('height above 2^53-1');
  const request = { fromHeight: Number(from), toHeight: Number(to) };
  if (!isValidSyncRequest(request)) return err('fromHeight above toHeight');
  return ok(request);
}

/** The longest prefix of `items` within the limits. */
export function boundedPrefix(items: readonly Uint8Array[], limits: SyncLimits): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  for (const item of items) {
    if (out.length >= limits.maxItems || item.length === 0 || item.length > limits.maxFrameBytes) break;
    if (bytes + item.length > limits.maxBytes) break;
    bytes += item.length;
    out.push(item);
  }
  return out;
}

/**
 * - `closed`: the stream closed with an error or was reset before the response ended.
 * - `bad-frame`: the framing is broken (oversize or empty frame, or a truncated last frame).
 * - `over-limit`: the response has more items or bytes than the limits allow.
 * - `aborted`: `signal` fired (its reason is kept).
 */
export type SyncReadError =
  | { readonly code: 'closed'; readonly cause: unknown }
  | { readonly code: 'bad-frame'; readonly message: string }
  | { readonly code: 'over-limit'; readonly message: string }
  | { readonly code: 'aborted'; readonly reason: unknown };

/**
 * Sends the request on a freshly opened sync stream and reads the response until the
 * server closes. Never throws: every failure is a SyncReadError, and the stream is
 * aborted on any failure.
 */
export function exchangeSync(
  stream: Stream,
  request: SyncRequest,
  limits: SyncLimits,
  signal: AbortSignal,
): Promise<Result<Uint8Array[], SyncReadError>> {
  return new Promise((resolve) => {
    const items: Uint8Array[] = [];
    const decoder = new FrameDecoder(limits.maxFrameBytes);
    let bytes = 0;
    let settled = false;

    const finish = (result: Result<Uint8Array[], SyncReadError>): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (!result.ok && stream.status === 'open') stream.abort(new Error(`sync: ${result.error.code}`));
      resolve(result);
    };
    const fail = (error: SyncReadError): void => finish(err(error));

    const onFrame = (frame: Uint8Array): void => {
      if (settled) return;
      bytes += frame.length;
      items.push(frame);
      if (items.length > limits.maxItems) fail({ code: 'over-limit', message: `more than ${limits.maxItems} items` });
      else if (bytes > limits.maxBytes) fail({ code: 'over-limit', message: `more than ${limits.maxBytes} bytes` });
    };
    const onMessage = (evt: { data: Parameters<FrameDecoder['push']>[0] }): void => {
      if (settled) return;
      const error: FrameError | undefined = decoder.push(evt.data, onFrame);
      if (error !== undefined) fail({ code: 'bad-frame', message: error.message });
    };
    // Completion is judged a microtask later: a muxer may flag the end of the remote's
    // data in the same frame that carries its last bytes, and those are delivered after
    // the flag is processed.
    const onEnd = (): void => {
      queueMicrotask(() => {
        if (decoder.inFrame) fail({ code: 'bad-frame', message: 'response ends inside a frame' });
        else finish(ok(items));
      });
    };
    const onClose = (evt: { error?: Error }): void => {
      if (evt.error !== undefined) {
        queueMicrotask(() => fail({ code: 'closed', cause: evt.error }));
      } else {
        onEnd();
      }
    };
    const onAbort = (): void => fail({ code: 'aborted', reason: signal.reason });

    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort);
    stream.addEventListener('message', onMessage);
    stream.addEventListener('remoteCloseWrite', onEnd);
    stream.addEventListener('close', onClose);
    try {
      stream.send(encodeFrame(encodeSyncRequest(request)));
      // Half-close: the request is complete; the response still flows to us.
      stream.close({ signal }).catch((cause: unknown) => fail({ code: 'closed', cause }));
    } catch (cause) {
      fail({ code: 'closed', cause });
    }
  });
}

/**
 * Reads the one request frame a sync client sends. Resolves an error string for garbage,
 * and undefined if the stream closed or `signal` fired first.
 */
export function readSyncRequest(stream: Stream, signal: AbortSignal): Promise<Result<SyncRequest, string> | undefined> {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder(SYNC_REQUEST_BYTES);
    let settled = false;
    const finish = (value: Result<SyncRequest, string> | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('close', onClose);
      resolve(value);
    };
    const onMessage = (evt: { data: Parameters<FrameDecoder['push']>[0] }): void => {
      let request: Uint8Array | undefined;
      let frames = 0;
      const error = decoder.push(evt.data, (frame) => {
        frames += 1;
        request ??= frame;
      });
      if (error !== undefined) finish(err(error.message));
      else if (request !== undefined) {
        // Anything after the one request frame is garbage.
        finish(frames > 1 || decoder.inFrame ? err('bytes after the request') : decodeSyncRequest(request));
      }
    };
    const onClose = (): void => finish(undefined);
    const onAbort = (): void => finish(undefined);
    if (signal.aborted) {
      resolve(undefined);
      return;
    }
    signal.addEventListener('abort', onAbort);
    stream.addEventListener('message', onMessage);
    stream.addEventListener('close', onClose);
  });
}

/**
 * A response is sent in writes of about this many bytes. Every `send` costs a muxer frame,
 * a Noise message (each encrypted and decrypted on its own) and the stream machinery's
 * events on both ends: far more than copying a few KB. 60 KiB stays under one Noise
 * message (at most 65,519 bytes of payload) with room for the muxer's frame header.
 */
export const SYNC_WRITE_BYTES = 60 * 1024;

/**
 * The response's frames, packed into as few buffers of about `targetBytes` as the items
 * allow: an item never splits, so one larger than the target travels alone.
 */
export function packFrames(items: readonly Uint8Array[], targetBytes = SYNC_WRITE_BYTES): Uint8Array[] {
  const writes: Uint8Array[] = [];
  let start = 0;
  while (start < items.length) {
    let end = start;
    let bytes = 0;
    do {
      bytes += FRAME_HEADER_BYTES + (items[end] as Uint8Array).length;
      end += 1;
    } while (end < items.length && bytes + FRAME_HEADER_BYTES + (items[end] as Uint8Array).length <= targetBytes);
    const write = new Uint8Array(bytes);
    const view = new DataView(write.buffer);
    let offset = 0;
    for (let i = start; i < end; i++) {
      const item = items[i] as Uint8Array;
      view.setUint32(offset, item.length, false);
      write.set(item, offset + FRAME_HEADER_BYTES);
      offset += FRAME_HEADER_BYTES + item.length;
    }
    writes.push(write);
    start = end;
  }
  return writes;
}

/**
 * Writes response items as frames, packed (see SYNC_WRITE_BYTES), waiting for 'drain'
 * whenever the stream asks, then closes the writable end. Rejects if the stream fails or
 * `signal` fires.
 */
export async function writeSyncResponse(stream: Stream, items: readonly Uint8Array[], signal: AbortSignal): Promise<void> {
  for (const write of packFrames(items)) {
    signal.throwIfAborted();
    if (!stream.send(write)) await stream.onDrain({ signal });
  }
  await stream.close({ signal });
}

/** `promise`, or a rejection with the signal's reason once it fires. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
