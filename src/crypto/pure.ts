/**
 * The part of src/crypto with no I/O and no OpenSSL: what the codec and the consensus
 * core may import for values (a test walks their imports to keep it so).
 */
export * from './bytes.js';
export * from './constants.js';
export type { Address } from './address.js';
export type { Hash } from './hash.js';
export type { KeyPair, PublicKey, Signature } from './ed25519.js';
export type { SignatureKind } from './domain.js';
