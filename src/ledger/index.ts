/** The ledger's public API: the application state machine, its state and its proofs. */
export * from './account.js';
export * from './block.js';
export * from './errors.js';
export * from './execute.js';
export * from './genesis.js';
export * from './merkle.js';
export * from './overlay.js';
export * from './quorum.js';
export * from './smt.js';
export * from './state.js';
export * from './tx.js';
