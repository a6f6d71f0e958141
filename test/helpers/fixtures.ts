/**
 * Test fixtures shared across modules: a funded testnet genesis with deterministic keys,
 * and helpers that sign txs and certificates with them. Deterministic (keys derive from a
 * seed string), so a failing test reproduces exactly.
 */
import { encodeVotePayload } from '../../src/codec/consensus.js';
import type { BlockHeader, QuorumCertificate, Tx, TxBody } from '../../src/codec/types.js';
import { addressOf, type Address } from '../../src/crypto/address.js';
import { utf8 } from '../../src/crypto/bytes.js';
import { makeVerifier, sign, type Verifier } from '../../src/crypto/domain.js';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.js';
import { sha256, type Hash } from '../../src/crypto/hash.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { executionContext, type BlockFields, type ExecutionContext, type ParentLink } from '../../src/ledger/execute.js';
import {
  genesisFromJson,
  genesisHash,
  genesisState,
  type ConsensusParams,
  type Genesis,
} from '../../src/ledger/genesis.js';
import { quorumSize } from '../../src/ledger/quorum.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { signTx } from '../../src/ledger/tx.js';

/** A key pair derived from `${seed}/${label}/${index}`: stable across runs. */
export function testKeyPair(seed: string, label: string, index: number): KeyPair {
  return keyPairFromSeed(sha256(utf8(`${seed}/${label}/${index}`)));
}

export interface TestnetOptions {
  /** Validator count (default 4). */
  readonly validators?: number;
  /** Funded accounts (default 10). */
  readonly accounts?: number;
  /** Each account's starting balance (default 1,000,000). */
  readonly balance?: bigint;
  /** How many of the first accounts are admins (default 1: account 0). */
  readonly admins?: number;
  /** Accounts beyond `accounts` that exist with a balance but may not transact (default 0). */
  readonly frozenAccounts?: number;
  readonly chainId?: string;
  readonly genesisTime?: number;
  readonly consensus?: Partial<ConsensusParams>;
  /** Key derivation seed (default 'testnet'). */
  readonly seed?: string;
}

export interface Testnet {
  readonly genesis: Genesis;
  readonly chainId: string;
  readonly genesisHash: Hash;
  readonly validatorKeys: readonly KeyPair[];
  /** Funded accounts that may transact, then the frozen ones. */
  readonly accountKeys: readonly KeyPair[];
  readonly addresses: readonly Address[];
  readonly verifier: Verifier;
  readonly ctx: ExecutionContext;
  /** The genesis state (a fresh call builds a fresh tree). */
  state(): LedgerState;
  /** The link block 1 must match (height 0, genesis hash, genesis time). */
  readonly genesisLink: ParentLink;
  /** Signs a tx from account `from` (an index into accountKeys, or a key pair). */
  signBody(from: number | KeyPair, body: TxBody, nonce: bigint): Tx;
  signTransfer(from: number | KeyPair, to: number | Address, amount: bigint, nonce: bigint): Tx;
  signPut(from: number | KeyPair, key: string, value: Uint8Array, nonce: bigint): Tx;
  signGrant(from: number | KeyPair, account: number | Address, nonce: bigint): Tx;
  signRevoke(from: number | KeyPair, account: number | Address, nonce: bigint): Tx;
  /** Header fields of the block after `parent` (default: genesis), proposed by view 0's primary. */
  blockFields(parent?: ParentLink, overrides?: Partial<BlockFields>): BlockFields;
  /** A certificate over `header` with commit signatures from `signers` (default: the first quorum). */
  certify(header: BlockHeader, signers?: readonly number[]): QuorumCertificate;
}

export function makeTestnet(options: TestnetOptions = {}): Testnet {
  const seed = options.seed ?? 'testnet';
  const chainId = options.chainId ?? 'ledger-test';
  const nValidators = options.validators ?? 4;
  const nAccounts = options.accounts ?? 10;
  const nFrozen = options.frozenAccounts ?? 0;
  const balance = options.balance ?? 1_000_000n;
  const admins = options.admins ?? 1;

  const validatorKeys = Array.from({ length: nValidators }, (_, i) => testKeyPair(seed, 'validator', i));
  const accountKeys = Array.from({ length: nAccounts + nFrozen }, (_, i) => testKeyPair(seed, 'account', i));
  const addresses = accountKeys.map((k) => addressOf(k.publicKey));

  const json = {
    chainId,
    genesisTime: options.genesisTime ?? 1_767_225_600_000,
    validators: validatorKeys.map((k, i) => ({
      name: `v${i}`,
      publicKey: Buffer.from(k.publicKey).toString('hex'),
      address: addressOf(k.publicKey),
      p2p: `/ip4/127.0.0.1/tcp/${26656 + 10 * i}`,
      rpc: `http://127.0.0.1:${26657 + 10 * i}`,
    })),
    accounts: addresses.map((address, i) => ({
      address,
      balance: balance.toString(),
      canTransact: i < nAccounts,
      isAdmin: i < admins,
    })),
    consensus: options.consensus ?? {},
  };
  const parsed = genesisFromJson(json);
  if (!parsed.ok) throw new Error(`makeTestnet: ${parsed.error.message}`);
  const genesis = parsed.value;
  const verifier = makeVerifier(chainId);
  const ctx = executionContext(genesis, verifier);
  const link: ParentLink = { height: 0, hash: genesisHash(genesis), timestamp: genesis.genesisTime };

  const keyOf = (from: number | KeyPair): KeyPair => {
    if (typeof from !== 'number') return from;
    const key = accountKeys[from];
    if (key === undefined) throw new RangeError(`no test account ${from}`);
    return key;
  };
  const addressOfTarget = (to: number | Address): Address => {
    if (typeof to !== 'number') return to;
    const address = addresses[to];
    if (address === undefined) throw new RangeError(`no test account ${to}`);
    return address;
  };
  const signBody = (from: number | KeyPair, body: TxBody, nonce: bigint): Tx => {
    const key = keyOf(from);
    return signTx({ chainId, sender: key.publicKey, nonce, body }, key);
  };

  return {
    genesis,
    chainId,
    genesisHash: link.hash,
    validatorKeys,
    accountKeys,
    addresses,
    verifier,
    ctx,
    state: () => genesisState(genesis),
    genesisLink: link,
    signBody,
    signTransfer: (from, to, amount, nonce) => signBody(from, { kind: 'transfer', to: addressOfTarget(to), amount }, nonce),
    signPut: (from, key, value, nonce) => signBody(from, { kind: 'put', key, value }, nonce),
    signGrant: (from, account, nonce) => signBody(from, { kind: 'grant', account: addressOfTarget(account) }, nonce),
    signRevoke: (from, account, nonce) => signBody(from, { kind: 'revoke', account: addressOfTarget(account) }, nonce),
    blockFields: (parent = link, overrides = {}) => ({
      chainId,
      height: parent.height + 1,
      parentHash: parent.hash,
      view: 0,
      proposer: 0,
      timestamp: parent.timestamp + 1_000,
      ...overrides,
    }),
    certify: (header, signers) => {
      const who = signers ?? Array.from({ length: quorumSize(nValidators) }, (_, i) => i);
      const blockHash = hashBlockHeader(header);
      const payload = encodeVotePayload({ view: header.view, height: header.height, blockHash });
      return {
        view: header.view,
        height: header.height,
        blockHash,
        signatures: who.map((validator) => {
          const key = validatorKeys[validator];
          if (key === undefined) throw new RangeError(`no test validator ${validator}`);
          return { validator, signature: sign(key, 'commit', chainId, payload) };
        }),
      };
    },
  };
}
