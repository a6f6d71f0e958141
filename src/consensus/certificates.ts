/**
 * Checks of everything in the protocol that claims "2f+1 validators signed this". Pure:
 * signatures are checked through the injected ConsensusCrypto. Each check returns a
 * reason string on failure (for logs and tests) and undefined when the proof holds.
 */
import { toHex } from '../crypto/bytes.js';
import type { Hash, PublicKey, SignatureKind } from '../crypto/index.js';
import type {
  CheckpointCertificate,
  NewView,
  PreparedCertificate,
  QuorumCertificate,
  ValidatorSignature,
  ViewChange,
} from '../codec/types.js';
import {
  encodeCheckpointPayload,
  encodeNewViewForSigning,
  encodeViewChangeForSigning,
  encodeVotePayload,
} from '../codec/consensus.js';
import { quorumSize, type ConsensusCrypto } from './types.js';

export interface ValidatorSet {
  readonly chainId: string;
  readonly validators: readonly PublicKey[];
  readonly crypto: ConsensusCrypto;
}

/** Fails unless `signatures` holds a quorum of distinct known validators, each valid over `payload`. */
export function checkQuorumSignatures(
  set: ValidatorSet,
  kind: SignatureKind,
  payload: Uint8Array,
  signatures: readonly ValidatorSignature[],
): string | undefined {
  const n = set.validators.length;
  const seen = new Set<number>();
  for (const { validator, signature } of signatures) {
    const publicKey = set.validators[validator];
    if (publicKey === undefined) return `unknown validator ${validator}`;
    if (seen.has(validator)) return `validator ${validator} signed twice`;
    seen.add(validator);
    if (!set.crypto.verify(publicKey, kind, payload, signature)) return `bad ${kind} signature from validator ${validator}`;
  }
  if (seen.size < quorumSize(n)) return `${seen.size} ${kind} signatures, need ${quorumSize(n)}`;
  return undefined;
}

export function checkQuorumCertificate(set: ValidatorSet, qc: QuorumCertificate): string | undefined {
  const payload = encodeVotePayload({ view: qc.view, height: qc.height, blockHash: qc.blockHash });
  return checkQuorumSignatures(set, 'commit', payload, qc.signatures);
}

export function checkCheckpointCertificate(set: ValidatorSet, cert: CheckpointCertificate): string | undefined {
  const payload = encodeCheckpointPayload({ height: cert.height, blockHash: cert.blockHash });
  return checkQuorumSignatures(set, 'checkpoint', payload, cert.signatures);
}

export function checkPreparedCertificate(set: ValidatorSet, cert: PreparedCertificate): string | undefined {
  if (cert.header.height !== cert.height) return `prepared certificate for height ${cert.height} carries header ${cert.header.height}`;
  if (cert.header.chainId !== set.chainId) return 'prepared certificate from another chain';
  const blockHash = set.crypto.hashHeader(cert.header);
  const payload = encodeVotePayload({ view: cert.view, height: cert.height, blockHash });
  return checkQuorumSignatures(set, 'prepare', payload, cert.signatures);
}

// Verifying a VIEW-CHANGE costs up to (1 + window) quorum checks; a NEW-VIEW carries 2f+1
// of them and every replica checks every one. Remember verdicts by object identity.
const validViewChanges = new WeakSet<ViewChange>();

/** Checks a VIEW-CHANGE completely: its signature, its committed certificate, every prepared certificate. */
export function checkViewChange(set: ValidatorSet, vc: ViewChange): string | undefined {
  if (validViewChanges.has(vc)) return undefined;
  const publicKey = set.validators[vc.validator];
  if (publicKey === undefined) return `view-change from unknown validator ${vc.validator}`;
  const { signature, ...unsigned } = vc;
  if (!set.crypto.verify(publicKey, 'view-change', encodeViewChangeForSigning(unsigned), signature)) {
    return `bad view-change signature from validator ${vc.validator}`;
  }
  const base = vc.committed?.height ?? 0;
  if (vc.committed !== null) {
    const fault = checkQuorumCertificate(set, vc.committed);
    if (fault !== undefined) return `view-change from ${vc.validator}: committed certificate: ${fault}`;
  }
  let previousHeight = base;
  for (const cert of vc.prepared) {
    if (cert.height <= previousHeight) return `view-change from ${vc.validator}: prepared certificates not above ${previousHeight}`;
    if (cert.view >= vc.newView) return `view-change from ${vc.validator}: prepared certificate from view ${cert.view}`;
    previousHeight = cert.height;
    const fault = checkPreparedCertificate(set, cert);
    if (fault !== undefined) return `view-change from ${vc.validator}: height ${cert.height}: ${fault}`;
  }
  validViewChanges.add(vc);
  return undefined;
}

/** Checks a NEW-VIEW's signature and its proof: a quorum of distinct, valid VIEW-CHANGEs for its view. */
export function checkNewView(set: ValidatorSet, nv: NewView, primary: number): string | undefined {
  if (nv.validator !== primary) return `new-view for view ${nv.view} from ${nv.validator}, primary is ${primary}`;
  const publicKey = set.validators[nv.validator];
  if (publicKey === undefined) return `new-view from unknown validator ${nv.validator}`;
  const { signature, ...unsigned } = nv;
  if (!set.crypto.verify(publicKey, 'new-view', encodeNewViewForSigning(unsigned), signature)) {
    return 'bad new-view signature';
  }
  const senders = new Set<number>();
  for (const vc of nv.viewChanges) {
    if (vc.newView !== nv.view) return `new-view for view ${nv.view} carries a view-change for view ${vc.newView}`;
    if (senders.has(vc.validator)) return `new-view carries two view-changes from validator ${vc.validator}`;
    senders.add(vc.validator);
    const fault = checkViewChange(set, vc);
    if (fault !== undefined) return `new-view proof: ${fault}`;
  }
  if (senders.size < quorumSize(set.validators.length)) {
    return `new-view carries ${senders.size} view-changes, need ${quorumSize(set.validators.length)}`;
  }
  return undefined;
}

export function hashHex(hash: Hash): string {
  return toHex(hash);
}
