export { BlockStore, type BlockRange, type BlockStoreOptions, type StateWrites, type StoredBlock, type StoredHeader, type Tip } from './block-store.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { SenderTxRef, TxLocation } from './layout.js';
export { FileWal, type WalEntry } from './file-wal.js';
