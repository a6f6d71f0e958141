/**
 * The ledger's typed errors. They are plain data returned inside Results (never thrown), so
 * a caller switches on `code` and may log `message`, which is for people only.
 */

// ---------------------------------------------------------------------------------------
// Transactions

export type TxErrorCode =
  | 'bad-signature'
  | 'wrong-chain'
  | 'bad-nonce'
  | 'not-permitted'
  | 'insufficient-balance'
  | 'too-large'
  | 'malformed';

export interface TxError {
  readonly code: TxErrorCode;
  readonly message: string;
}

export function txError(code: TxErrorCode, message: string): TxError {
  return { code, message };
}

// ---------------------------------------------------------------------------------------
// Blocks

/** Faults of a block as a whole (or of its header), as opposed to one of its txs. */
export type BlockFaultCode =
  | 'bad-height'
  | 'bad-parent'
  | 'bad-chain'
  | 'bad-proposer'
  | 'bad-timestamp'
  | 'bad-tx-count'
  | 'bad-tx-root'
  | 'bad-state-root'
  | 'too-large';

export type BlockErrorCode = BlockFaultCode | 'invalid-tx' | 'duplicate-tx';

export type BlockError =
  | { readonly code: BlockFaultCode; readonly message: string }
  /** The tx at `index` fails; one invalid tx makes the whole block invalid. */
  | { readonly code: 'invalid-tx'; readonly message: string; readonly index: number; readonly txError: TxError }
  /** The tx at `index` has the same hash as an earlier tx of the block. */
  | { readonly code: 'duplicate-tx'; readonly message: string; readonly index: number; readonly firstIndex: number };

export function blockFault(code: BlockFaultCode, message: string): BlockError {
  return { code, message };
}

// ---------------------------------------------------------------------------------------
// Quorum certificates

export type CertificateErrorCode =
  | 'wrong-height'
  | 'wrong-block'
  | 'unknown-validator'
  | 'duplicate-signer'
  | 'bad-signature'
  | 'no-quorum';

export interface CertificateError {
  readonly code: CertificateErrorCode;
  readonly message: string;
  /** The validator index concerned, for per-signature faults. */
  readonly validator?: number;
}
