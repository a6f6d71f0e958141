/**
 * The package's public API (`import { LedgerClient } from 'ledger'`): the client library,
 * and the pieces a client needs around it — keys, tx encoding, signing and hashing, the
 * genesis format, and the proof checks the client's verified reads are built from.
 */

// The client
export { LedgerClient, type LedgerClientOptions, type SubmitOptions, type Subscription, type TxBuildOptions, type TxFilter } from './client/client.js';
export { ClientError, type ClientErrorCode, type ClientErrorInfo, type VerificationCheck } from './client/errors.js';
export type * from './client/types.js';
export {
  trustedState,
  verifyAccount,
  verifyBlock,
  verifyCommit,
  verifyRecord,
  verifyTx,
  type TrustedState,
  type VerifiedAccount,
  type VerifiedBlock,
  type VerifiedCommit,
  type VerifiedRecord,
  type VerifiedTx,
} from './client/verify.js';

// Keys and bytes
export { addressOf, isAddress, type Address } from './crypto/address.js';
export { fromHex, toHex, utf8 } from './crypto/bytes.js';
export { signingBytes, type SignatureKind } from './crypto/domain.js';
export { generateKeyPair, keyPairFromSeed, type KeyPair, type PublicKey, type Signature } from './crypto/ed25519.js';
export { sha256, type Hash } from './crypto/hash.js';
export { KeyFileError, loadKeyFile, parseKeyFile, writeKeyFile, type LoadedKey } from './crypto/keyfile.js';

// Txs and blocks
export { decodeTx, encodeTx, encodeUnsignedTx } from './codec/tx.js';
export type { Result } from './codec/result.js';
export type { Block, BlockHeader, QuorumCertificate, Tx, TxBody, TxKind, UnsignedTx, ValidatorSignature } from './codec/types.js';
export { hashTx, signTx } from './ledger/tx.js';
export { computeTxRoot, hashBlockHeader, verifyQuorumCertificate } from './ledger/block.js';
export type { Account } from './ledger/account.js';

// Genesis and proofs
export { genesisHash, parseGenesis, type Genesis, type GenesisValidator } from './ledger/genesis.js';
export { verifyMerkleProof, type MerkleProof } from './ledger/merkle.js';
export { verifyStateProof, type StateProof } from './ledger/smt.js';
export { accountKey, recordKey } from './ledger/state.js';
