/** Byte helpers shared by every layer: hex, utf-8, concatenation, comparison. */

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses lowercase or uppercase hex; returns undefined for anything else (odd length, stray chars). */
export function tryFromHex(hex: string): Uint8Array | undefined {
  const lower = hex.toLowerCase();
  if (!HEX_RE.test(lower)) return undefined;
  return new Uint8Array(Buffer.from(lower, 'hex'));
}

export function fromHex(hex: string): Uint8Array {
  const bytes = tryFromHex(hex);
  if (bytes === undefined) throw new TypeError(`not a hex string: ${JSON.stringify(hex.slice(0, 80))}`);
  return bytes;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decoding: returns undefined on invalid sequences instead of inserting U+FFFD. */
export function tryDecodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Lexicographic comparison, for canonical orderings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).compare(b);
}
