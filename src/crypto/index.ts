export * from './address.js';
export * from './bytes.js';
export * from './domain.js';
export * from './ed25519.js';
export * from './hash.js';
export * from './keyfile.js';
