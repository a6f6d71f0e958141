import { utf8 } from './bytes.js';
import { signRaw, verifyRaw, type KeyPair, type PublicKey, type Signature } from './ed25519.js';

/**
 * Everything that is ever signed, by kind. The kind and the chain id are part of the
 * signed bytes, so no signature can be replayed as another kind or on another chain.
 */
export type SignatureKind =
  | 'tx'
  | 'pre-prepare'
  | 'prepare'
  | 'commit'
  | 'checkpoint'
  | 'view-change'
  | 'new-view';

export const MAX_CHAIN_ID_LENGTH = 64;

const tagCache = new Map<string, Uint8Array>();

/**
 * `"ledger/v1/<kind>" 0x00 len(chainId) chainId`: the kind has no NUL and the chain id is
 * length-prefixed, so distinct (kind, chainId) pairs never produce the same prefix.
 */
function domainPrefix(kind: SignatureKind, chainId: string): Uint8Array {
  const cacheKey = `${kind}\u0000${chainId}`;
  let prefix = tagCache.get(cacheKey);
  if (prefix === undefined) {
    const tag = utf8(`ledger/v1/${kind}`);
    const chain = utf8(chainId);
    if (chain.length > MAX_CHAIN_ID_LENGTH) throw new RangeError(`chain id longer than ${MAX_CHAIN_ID_LENGTH} bytes`);
    prefix = new Uint8Array(tag.length + 2 + chain.length);
    prefix.set(tag, 0);
    prefix[tag.length] = 0;
    prefix[tag.length + 1] = chain.length;
    prefix.set(chain, tag.length + 2);
    if (tagCache.size < 1024) tagCache.set(cacheKey, prefix);
  }
  return prefix;
}

export function signingBytes(kind: SignatureKind, chainId: string, payload: Uint8Array): Uint8Array {
  const prefix = domainPrefix(kind, chainId);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

export function sign(keyPair: KeyPair, kind: SignatureKind, chainId: string, payload: Uint8Array): Signature {
  return signRaw(keyPair, signingBytes(kind, chainId, payload));
}

export function verify(
  publicKey: PublicKey,
  kind: SignatureKind,
  chainId: string,
  payload: Uint8Array,
  signature: Signature,
): boolean {
  return verifyRaw(publicKey, signingBytes(kind, chainId, payload), signature);
}

/**
 * What the consensus core and the ledger are given instead of keys: signing and
 * verification are injected, so the core stays pure and tests can count or fake them.
 */
export interface Signer {
  readonly publicKey: PublicKey;
  sign(kind: SignatureKind, payload: Uint8Array): Signature;
}

export interface Verifier {
  verify(publicKey: PublicKey, kind: SignatureKind, payload: Uint8Array, signature: Signature): boolean;
}

export function makeSigner(keyPair: KeyPair, chainId: string): Signer {
  return {
    publicKey: keyPair.publicKey,
    sign: (kind, payload) => sign(keyPair, kind, chainId, payload),
  };
}

export function makeVerifier(chainId: string): Verifier {
  return {
    verify: (publicKey, kind, payload, signature) => verify(publicKey, kind, chainId, payload, signature),
  };
}
