export { BlockStore, type BlockRange, type BlockStoreOptions, type StateWrites, type StoredBlock, type Tip } from './block-store.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { TxLocation } from './layout.js';
export { ConsensusWal, type WalEntry } from './wal.js';
