/**
 * Keys and signatures for the simulator. Two schemes behind one face:
 *
 * - 'fake' (the default, for speed): a signature is sha256(publicKey || signingBytes) written
 *   twice to fill 64 bytes, and verification recomputes it. Anyone who knows a public key
 *   could "sign" for it, so this scheme is unforgeable ONLY because every simulated actor,
 *   the Byzantine strategies included, plays by the rule of signing with its own key alone
 *   (byzantine.ts gets a signer for its own index and nothing else). Corrupting, replaying
 *   or omitting signatures is fair game; computing another validator's is not.
 * - 'real': Ed25519 through src/crypto, for slower, faithful runs (`--real-crypto`).
 *
 * Keys are derived from fixed labels, not from the run's seed, so real key pairs can be
 * cached across runs without touching the PRNG.
 */
import type { Tx, UnsignedTx } from '../../src/codec/types.js';
import { encodeUnsignedTx } from '../../src/codec/tx.js';
import type { ConsensusCrypto } from '../../src/consensus/types.js';
import {
  addressOf,
  bytesEqual,
  keyPairFromSeed,
  makeSigner,
  makeVerifier,
  sha256,
  signingBytes,
  utf8,
  type Address,
  type KeyPair,
  type PublicKey,
  type Signature,
  type SignatureKind,
  type Signer,
  type Verifier,
} from '../../src/crypto/index.js';
import { computeTxRoot, hashBlockHeader } from '../../src/ledger/block.js';

export type CryptoMode = 'fake' | 'real';

export interface SimKeys {
  readonly mode: CryptoMode;
  readonly chainId: string;
  readonly validators: readonly PublicKey[];
  readonly clients: readonly PublicKey[];
  readonly clientAddresses: readonly Address[];
  readonly verifier: Verifier;
  /** The signer of validator `index`: a replica (honest or not) gets only its own. */
  validatorSigner(index: number): Signer;
  consensusCrypto(index: number): ConsensusCrypto;
  signTx(unsigned: UnsignedTx, client: number): Tx;
}

function fakeSignature(publicKey: PublicKey, kind: SignatureKind, chainId: string, payload: Uint8Array): Signature {
  const h = sha256(publicKey, signingBytes(kind, chainId, payload));
  const sig = new Uint8Array(64);
  sig.set(h, 0);
  sig.set(h, 32);
  return sig;
}

function labelKey(label: string): Uint8Array {
  return sha256(utf8(`ledger-sim/${label}`));
}

const realKeyCache = new Map<string, KeyPair>();

function realKeyPair(label: string): KeyPair {
  let kp = realKeyCache.get(label);
  if (kp === undefined) {
    kp = keyPairFromSeed(labelKey(label));
    realKeyCache.set(label, kp);
  }
  return kp;
}

export function makeSimKeys(mode: CryptoMode, chainId: string, validatorCount: number, clientCount: number): SimKeys {
  const validatorLabels = Array.from({ length: validatorCount }, (_, i) => `validator/${i}`);
  const clientLabels = Array.from({ length: clientCount }, (_, i) => `client/${i}`);

  let publicKeyOf: (label: string) => PublicKey;
  let signerOf: (label: string) => Signer;
  let verifier: Verifier;
  if (mode === 'fake') {
    publicKeyOf = labelKey;
    signerOf = (label) => {
      const publicKey = labelKey(label);
      return { publicKey, sign: (kind, payload) => fakeSignature(publicKey, kind, chainId, payload) };
    };
    verifier = {
      verify: (publicKey, kind, payload, signature) =>
        signature.length === 64 && bytesEqual(signature, fakeSignature(publicKey, kind, chainId, payload)),
    };
  } else {
    publicKeyOf = (label) => realKeyPair(label).publicKey;
    signerOf = (label) => makeSigner(realKeyPair(label), chainId);
    verifier = makeVerifier(chainId);
  }

  const validatorSigners = validatorLabels.map(signerOf);
  const clientSigners = clientLabels.map(signerOf);
  const clients = clientLabels.map(publicKeyOf);
  const signerAt = (signers: readonly Signer[], i: number, what: string): Signer => {
    const s = signers[i];
    if (s === undefined) throw new RangeError(`no ${what} ${i}`);
    return s;
  };

  return {
    mode,
    chainId,
    validators: validatorLabels.map(publicKeyOf),
    clients,
    clientAddresses: clients.map(addressOf),
    verifier,
    validatorSigner: (index) => signerAt(validatorSigners, index, 'validator'),
    consensusCrypto(index) {
      const signer = signerAt(validatorSigners, index, 'validator');
      return {
        sign: (kind, payload) => signer.sign(kind, payload),
        verify: (publicKey, kind, payload, signature) => verifier.verify(publicKey, kind, payload, signature),
        hashHeader: hashBlockHeader,
        bodyMatchesHeader: (block) =>
          block.header.txCount === block.txs.length && bytesEqual(computeTxRoot(block.txs), block.header.txRoot),
      };
    },
    signTx(unsigned, client) {
      const signer = signerAt(clientSigners, client, 'client');
      if (!bytesEqual(signer.publicKey, unsigned.sender)) throw new RangeError(`client ${client} is not the tx's sender`);
      return { ...unsigned, signature: signer.sign('tx', encodeUnsignedTx(unsigned)) };
    },
  };
}
