/**
 * What `/ledger/sync/1` carries per block: the block and its certificate, as the store
 * holds them (no re-encoding when serving). Decoding is total, like every codec here.
 */
import { decodeBlock, decodeQuorumCertificate } from '../codec/block.js';
import type { Result } from '../codec/result.js';
import { LIMITS, type Block, type QuorumCertificate } from '../codec/types.js';

export interface CertifiedBlock {
  readonly block: Block;
  readonly certificate: QuorumCertificate;
}

export function encodeSyncItem(blockBytes: Uint8Array, certificateBytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + blockBytes.length + certificateBytes.length);
  new DataView(out.buffer).setUint32(0, blockBytes.length);
  out.set(blockBytes, 4);
  out.set(certificateBytes, 4 + blockBytes.length);
  return out;
}

export function decodeSyncItem(bytes: Uint8Array): Result<CertifiedBlock, string> {
  if (bytes.length < 4) return { ok: false, error: 'sync item shorter than its length prefix' };
  const blockLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (blockLength > LIMITS.blockBytes || 4 + blockLength > bytes.length) return { ok: false, error: 'sync item block length out of range' };
  const block = decodeBlock(bytes.subarray(4, 4 + blockLength));
  if (!block.ok) return { ok: false, error: `sync item block: ${block.error.message}` };
  const certificate = decodeQuorumCertificate(bytes.subarray(4 + blockLength));
  if (!certificate.ok) return { ok: false, error: `sync item certificate: ${certificate.error.message}` };
  return { ok: true, value: { block: block.value, certificate: certificate.value } };
}
