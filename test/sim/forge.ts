/**
 * Message making for Byzantine strategies. Everything a strategy signs goes through a
 * Forger bound to that validator's own signer: it can sign anything as ITSELF, corrupt
 * signatures and make certificates full of garbage, but it never computes another
 * validator's signature (see keys.ts for why the fake scheme relies on that rule).
 */
import {
  encodeCheckpointPayload,
  encodeNewViewForSigning,
  encodeViewChangeForSigning,
  encodeVotePayload,
} from '../../src/codec/consensus.js';
import type {
  Block,
  BlockHeader,
  Checkpoint,
  Commit,
  ConsensusMessage,
  NewView,
  PrePrepare,
  Prepare,
  PreparedCertificate,
  QuorumCertificate,
  ValidatorSignature,
  ViewChange,
} from '../../src/codec/types.js';
import type { Hash, Signature, Signer } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { quorumSize } from '../../src/ledger/quorum.js';
import type { Prng } from './prng.js';

/**
 * How a forged certificate is broken. Only breakages the wire can carry: the codec insists
 * on signature lists strictly increasing by validator, so a repeated signer cannot even be
 * encoded (and a decoder refuses one), and is left out.
 */
export type ForgeryMode = 'short' | 'garbage' | 'unknown-validator' | 'corrupt-own';
export const FORGERY_MODES: readonly ForgeryMode[] = ['short', 'garbage', 'unknown-validator', 'corrupt-own'];

export class Forger {
  constructor(
    private readonly signer: Signer,
    readonly self: number,
    readonly n: number,
    private readonly prng: Prng,
  ) {}

  randomHash(): Hash {
    return this.prng.bytes(32);
  }

  garbageSignature(): Signature {
    return this.prng.bytes(64);
  }

  /** The same signature with one bit flipped. */
  corrupt(signature: Signature): Signature {
    const out = Uint8Array.from(signature);
    const i = this.prng.int(out.length);
    out[i] = (out[i] as number) ^ (1 << this.prng.int(8));
    return out;
  }

  prePrepare(view: number, height: number, block: Block): PrePrepare {
    const blockHash = hashBlockHeader(block.header);
    const signature = this.signer.sign('pre-prepare', encodeVotePayload({ view, height, blockHash }));
    return { type: 'pre-prepare', view, height, validator: this.self, block, signature };
  }

  prepare(view: number, height: number, blockHash: Hash): Prepare {
    const signature = this.signer.sign('prepare', encodeVotePayload({ view, height, blockHash }));
    return { type: 'prepare', view, height, blockHash, validator: this.self, signature };
  }

  commit(view: number, height: number, blockHash: Hash): Commit {
    const signature = this.signer.sign('commit', encodeVotePayload({ view, height, blockHash }));
    return { type: 'commit', view, height, blockHash, validator: this.self, signature };
  }

  checkpoint(height: number, blockHash: Hash): Checkpoint {
    const signature = this.signer.sign('checkpoint', encodeCheckpointPayload({ height, blockHash }));
    return { type: 'checkpoint', height, blockHash, validator: this.self, signature };
  }

  viewChange(newView: number, committed: QuorumCertificate | null, prepared: readonly PreparedCertificate[]): ViewChange {
    const unsigned = { type: 'view-change' as const, newView, validator: this.self, committed, prepared };
    return { ...unsigned, signature: this.signer.sign('view-change', encodeViewChangeForSigning(unsigned)) };
  }

  newView(view: number, viewChanges: readonly ViewChange[]): NewView {
    const unsigned = { type: 'new-view' as const, view, validator: this.self, viewChanges };
    return { ...unsigned, signature: this.signer.sign('new-view', encodeNewViewForSigning(unsigned)) };
  }

  /**
   * Signatures for a (fake) quorum over `payload` of `kind`: this validator's own is real,
   * the rest are broken as `mode` says, so the whole never verifies as a quorum.
   */
  forgedSignatures(kind: 'commit' | 'prepare', payload: Uint8Array, mode: ForgeryMode): ValidatorSignature[] {
    const own = { validator: this.self, signature: this.signer.sign(kind, payload) };
    const q = quorumSize(this.n);
    const others = Array.from({ length: this.n }, (_, i) => i).filter((i) => i !== this.self);
    switch (mode) {
      case 'short':
        return [own];
      case 'corrupt-own':
        // A full quorum of signer indexes, every signature but our own garbage, ours corrupted too.
        return sortSigs([{ ...own, signature: this.corrupt(own.signature) }, ...others.slice(0, q - 1).map((validator) => ({ validator, signature: this.garbageSignature() }))]);
      case 'unknown-validator':
        return [own, ...Array.from({ length: q - 1 }, (_, i) => ({ validator: this.n + i, signature: this.garbageSignature() }))];
      case 'garbage':
        return sortSigs([own, ...others.slice(0, q - 1).map((validator) => ({ validator, signature: this.garbageSignature() }))]);
    }
  }

  forgedCertificate(view: number, height: number, blockHash: Hash, mode: ForgeryMode): QuorumCertificate {
    const payload = encodeVotePayload({ view, height, blockHash });
    return { view, height, blockHash, signatures: this.forgedSignatures('commit', payload, mode) };
  }

  forgedPrepared(view: number, header: BlockHeader, mode: ForgeryMode): PreparedCertificate {
    const payload = encodeVotePayload({ view, height: header.height, blockHash: hashBlockHeader(header) });
    return { view, height: header.height, header, signatures: this.forgedSignatures('prepare', payload, mode) };
  }

  /** Re-signs a message this validator sends after a strategy changed its fields. */
  resign(m: ConsensusMessage): ConsensusMessage {
    switch (m.type) {
      case 'pre-prepare':
        return this.prePrepare(m.view, m.height, m.block);
      case 'prepare':
        return this.prepare(m.view, m.height, m.blockHash);
      case 'commit':
        return this.commit(m.view, m.height, m.blockHash);
      case 'checkpoint':
        return this.checkpoint(m.height, m.blockHash);
      case 'view-change':
        return this.viewChange(m.newView, m.committed, m.prepared);
      case 'new-view':
        return this.newView(m.view, m.viewChanges);
      default:
        return m;
    }
  }

  /** A copy with the signature corrupted (unsigned messages come back unchanged). */
  withBadSignature(m: ConsensusMessage): ConsensusMessage {
    if (m.type === 'block-request' || m.type === 'block-response' || m.type === 'status') return m;
    return { ...m, signature: this.prng.chance(0.5) ? this.corrupt(m.signature) : this.garbageSignature() };
  }
}

function sortSigs(sigs: ValidatorSignature[]): ValidatorSignature[] {
  return sigs.sort((a, b) => a.validator - b.validator);
}
