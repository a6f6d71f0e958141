/**
 * Checking what a node says against the genesis alone, trusting no node (a light client's
 * checks). The chain of trust for one read:
 *
 *   genesis validators --(2f+1 COMMIT signatures)--> block hash
 *   block hash --(sha256 of the header's encoding)--> header {state_root, tx_root, tx_count}
 *   state_root --(sparse Merkle proof)--> state key = value   (account, record; or absence)
 *   tx_root --(RFC 6962 inclusion proof, total = tx_count)--> tx hash = sha256(tx bytes)
 *
 * Every function returns a Result whose error is a ClientError with code
 * 'verification-failed' and `check` naming the first link that broke.
 */
import type { Result } from '../codec/result.js';
import type { BlockHeader, QuorumCertificate } from '../codec/types.js';
import type { Address } from '../crypto/address.js';
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { makeVerifier, type Verifier } from '../crypto/domain.js';
import type { PublicKey } from '../crypto/ed25519.js';
import type { Hash } from '../crypto/hash.js';
import { decodeAccount, EMPTY_ACCOUNT, type Account } from '../ledger/account.js';
import { computeTxRoot, hashBlockHeader, verifyQuorumCertificate } from '../ledger/block.js';
import { genesisState, validatorKeys, type Genesis } from '../ledger/genesis.js';
import { verifyMerkleProof } from '../ledger/merkle.js';
import { verifyStateProof } from '../ledger/smt.js';
import { accountKey, recordKey } from '../ledger/state.js';
import { hashTx } from '../ledger/tx.js';
import { verificationFailed, type ClientError, type VerificationCheck } from './errors.js';
import type { AccountInfo, BlockInfo, CommitInfo, CommittedTx, RecordInfo, StateProofData } from './types.js';

/** A header whose certificate verified against the genesis validators. */
export interface VerifiedCommit {
  readonly height: number;
  /** hashBlockHeader(header): computed here, not taken from the node. */
  readonly hash: Hash;
  readonly header: BlockHeader;
  readonly certificate: QuorumCertificate;
}

export interface VerifiedAccount extends Account {
  readonly address: Address;
  readonly height: number;
  /** The certified header the state proof was checked against; null at height 0 (checked against the genesis state). */
  readonly commit: VerifiedCommit | null;
}

export interface VerifiedRecord {
  readonly owner: Address;
  readonly key: string;
  /** Undefined: proven absent. */
  readonly value: Uint8Array | undefined;
  readonly height: number;
  /** As for VerifiedAccount. */
  readonly commit: VerifiedCommit | null;
}

export interface VerifiedTx extends CommittedTx {
  readonly commit: VerifiedCommit;
}

export interface VerifiedBlock extends BlockInfo {
  readonly commit: VerifiedCommit;
}

type Checked<T> = Result<T, ClientError>;

function fail(check: VerificationCheck, message: string): Checked<never> {
  return { ok: false, error: verificationFailed(check, message) };
}

function short(bytes: Uint8Array): string {
  return `${toHex(bytes).slice(0, 16)}..`;
}

interface TrustAnchor {
  readonly validators: readonly PublicKey[];
  readonly verifier: Verifier;
}

const anchors = new WeakMap<Genesis, TrustAnchor>();

function anchorOf(genesis: Genesis): TrustAnchor {
  let anchor = anchors.get(genesis);
  if (anchor === undefined) {
    anchor = { validators: validatorKeys(genesis), verifier: makeVerifier(genesis.chainId) };
    anchors.set(genesis, anchor);
  }
  return anchor;
}

/**
 * A header and its certificate, checked against the genesis: the chain id, the height (when
 * one is expected), that the header hashes to the hash the node claims, and that the
 * certificate holds a quorum of valid COMMIT signatures from genesis validators over
 * exactly that (height, hash).
 */
export function verifyCommit(commit: CommitInfo, genesis: Genesis, expectedHeight?: number): Checked<VerifiedCommit> {
  const { header, certificate } = commit;
  if (header.chainId !== genesis.chainId) return fail('chain-id', `the header is of chain ${JSON.stringify(header.chainId)}, the genesis of ${JSON.stringify(genesis.chainId)}`);
  if (expectedHeight !== undefined && header.height !== expectedHeight) return fail('height', `asked for the header at height ${expectedHeight}, got height ${header.height}`);
  const hash = hashBlockHeader(header);
  if (!bytesEqual(hash, commit.hash)) return fail('header-hash', `the header at height ${header.height} hashes to ${short(hash)}, the node claims ${short(commit.hash)}`);
  const anchor = anchorOf(genesis);
  const certified = verifyQuorumCertificate(certificate, anchor.validators, anchor.verifier, { height: header.height, blockHash: hash });
  if (!certified.ok) return fail('certificate', `block ${header.height}: ${certified.error.message}`);
  return { ok: true, value: { height: header.height, hash, header, certificate } };
}

/** The state root a read at `height` must be proven against: the certified header's, or at height 0 the genesis state's. */
export interface TrustedState {
  readonly height: number;
  readonly stateRoot: Hash;
  /** Null at height 0: the genesis itself is the trusted state. */
  readonly commit: VerifiedCommit | null;
}

const genesisRoots = new WeakMap<Genesis, Hash>();

/**
 * The trusted state root at `height`: from the header of `commitInfo` once its certificate
 * verifies, or (height 0, before any block) the root of the genesis state, computed here.
 */
export function trustedState(height: number, commitInfo: CommitInfo | null, genesis: Genesis): Checked<TrustedState> {
  if (height === 0) {
    let root = genesisRoots.get(genesis);
    if (root === undefined) {
      root = genesisState(genesis).root;
      genesisRoots.set(genesis, root);
    }
    return { ok: true, value: { height, stateRoot: root, commit: null } };
  }
  if (commitInfo === null) return fail('missing-proof', `no certified header for height ${height}`);
  const commit = verifyCommit(commitInfo, genesis, height);
  if (!commit.ok) return commit;
  return { ok: true, value: { height, stateRoot: commit.value.header.stateRoot, commit: commit.value } };
}

/** The proof's key, root and path: the stored bytes it proves (undefined: absence). */
function checkStateProof(what: string, key: Uint8Array, proof: StateProofData | undefined, trusted: TrustedState): Checked<Uint8Array | undefined> {
  if (proof === undefined) return fail('missing-proof', `the node sent no proof for ${what}`);
  if (!bytesEqual(proof.key, key)) return fail('state-key', `the proof is for state key ${short(proof.key)}, not ${what}'s ${short(key)}`);
  const source = trusted.commit === null ? 'the genesis state' : `the certified header at height ${trusted.height}`;
  if (!bytesEqual(proof.stateRoot, trusted.stateRoot)) {
    return fail('state-root', `the proof is against state root ${short(proof.stateRoot)}, ${source} has ${short(trusted.stateRoot)}`);
  }
  if (!verifyStateProof(trusted.stateRoot, key, proof.value, proof.proof)) {
    return fail('state-proof', `the proof for ${what} does not lead to the state root of ${source}`);
  }
  return { ok: true, value: proof.value };
}

/**
 * An account read (made with prove) against the trusted state at its height (see
 * trustedState; `commitInfo` is the `commit` of that height, null at height 0): the proof
 * must prove the account's stored bytes, and every field the node reported must be what
 * those bytes say. (pending_nonce is mempool information: nothing proves it.)
 */
export function verifyAccount(address: Address, account: AccountInfo, commitInfo: CommitInfo | null, genesis: Genesis): Checked<VerifiedAccount> {
  const trusted = trustedState(account.height, commitInfo, genesis);
  if (!trusted.ok) return trusted;
  if (account.address !== address) return fail('state-key', `asked for account ${address}, the node answered for ${account.address}`);
  const proven = checkStateProof(`account ${address}`, accountKey(address), account.proof, trusted.value);
  if (!proven.ok) return proven;
  let state: Account = EMPTY_ACCOUNT;
  if (proven.value !== undefined) {
    const decoded = decodeAccount(proven.value);
    if (!decoded.ok) return fail('value', `the proven state entry of account ${address} is not an account: ${decoded.error.message}`);
    state = decoded.value;
  }
  const lies: string[] = [];
  if (account.balance !== state.balance) lies.push(`balance ${account.balance} (proven: ${state.balance})`);
  if (account.nonce !== state.nonce) lies.push(`nonce ${account.nonce} (proven: ${state.nonce})`);
  if (account.canTransact !== state.canTransact) lies.push(`can_transact ${account.canTransact} (proven: ${state.canTransact})`);
  if (account.isAdmin !== state.isAdmin) lies.push(`is_admin ${account.isAdmin} (proven: ${state.isAdmin})`);
  if (lies.length > 0) return fail('value', `account ${address} at height ${account.height}: the node reported ${lies.join(', ')}`);
  return { ok: true, value: { ...state, address, height: account.height, commit: trusted.value.commit } };
}

/** A data record read (made with prove), as verifyAccount; an absent record is proven absent. */
export function verifyRecord(owner: Address, key: string, record: RecordInfo, commitInfo: CommitInfo | null, genesis: Genesis): Checked<VerifiedRecord> {
  const trusted = trustedState(record.height, commitInfo, genesis);
  if (!trusted.ok) return trusted;
  const what = `record ${JSON.stringify(key)} of ${owner}`;
  if (record.owner !== owner || record.key !== key) return fail('state-key', `asked for ${what}, the node answered for record ${JSON.stringify(record.key)} of ${record.owner}`);
  const proven = checkStateProof(what, recordKey(owner, key), record.proof, trusted.value);
  if (!proven.ok) return proven;
  const reported = record.value;
  const same = reported === undefined || proven.value === undefined ? reported === proven.value : bytesEqual(reported, proven.value);
  if (!same) {
    const show = (v: Uint8Array | undefined) => (v === undefined ? 'nothing' : `${v.length} bytes ${short(v)}`);
    return fail('value', `${what} at height ${record.height}: the node reported ${show(reported)}, the proof proves ${show(proven.value)}`);
  }
  return { ok: true, value: { owner, key, value: proven.value, height: record.height, commit: trusted.value.commit } };
}

/** A committed tx (read with prove) against the certified header of its block. */
export function verifyTx(hash: Hash, tx: CommittedTx, commitInfo: CommitInfo, genesis: Genesis): Checked<VerifiedTx> {
  const commit = verifyCommit(commitInfo, genesis, tx.height);
  if (!commit.ok) return commit;
  // tx.hash is computed from the tx's bytes by the parser; hashTx re-derives it from the tx.
  const actual = hashTx(tx.tx);
  if (!bytesEqual(actual, hash) || !bytesEqual(tx.hash, hash)) return fail('tx-hash', `asked for tx ${short(hash)}, the node sent tx ${short(actual)}`);
  const { proof } = tx;
  if (proof === undefined) return fail('missing-proof', `the node sent no inclusion proof for tx ${short(hash)}`);
  const { header } = commit.value;
  if (!bytesEqual(proof.txRoot, header.txRoot)) {
    return fail('tx-root', `the proof is against tx root ${short(proof.txRoot)}, the certified header at height ${header.height} has ${short(header.txRoot)}`);
  }
  // `total` comes from the certified header, never from the proof (RFC 6962 paths do not authenticate it).
  if (proof.index !== tx.index || !verifyMerkleProof(header.txRoot, hash, { index: tx.index, total: header.txCount, siblings: proof.siblings })) {
    return fail('tx-proof', `tx ${short(hash)} is not proven at index ${tx.index} of the ${header.txCount} txs of block ${header.height}`);
  }
  return { ok: true, value: { ...tx, commit: commit.value } };
}

/** A block: its certified header, and txs that are exactly the ones the header commits to. */
export function verifyBlock(block: BlockInfo, genesis: Genesis, expectedHeight?: number): Checked<VerifiedBlock> {
  const commit = verifyCommit(block, genesis, expectedHeight);
  if (!commit.ok) return commit;
  const { header } = commit.value;
  if (block.block.txs.length !== header.txCount) return fail('block-txs', `block ${header.height} has ${block.block.txs.length} txs, its certified header says ${header.txCount}`);
  const root = computeTxRoot(block.block.txs);
  if (!bytesEqual(root, header.txRoot)) return fail('block-txs', `the txs of block ${header.height} have root ${short(root)}, the certified header ${short(header.txRoot)}`);
  return { ok: true, value: { ...block, commit: commit.value } };
}
