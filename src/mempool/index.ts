/** The mempool: pending txs, their admission, block selection and eviction. */
export * from './errors.js';
export * from './mempool.js';
