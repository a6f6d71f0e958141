/**
 * The simulated chain's fixed facts: keys, genesis, execution context and the replicas'
 * configuration, all derived from a few parameters. Clients are genesis accounts with
 * balances no run can exhaust, so every tx a client signs stays valid until committed.
 */
import type { ReplicaConfig } from '../../src/consensus/types.js';
import { addressOf, type Hash } from '../../src/crypto/index.js';
import { executionContext, type ExecutionContext } from '../../src/ledger/execute.js';
import { genesisHash, genesisState, type Genesis } from '../../src/ledger/genesis.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { makeSimKeys, type CryptoMode, type SimKeys } from './keys.js';

export const SIM_CHAIN_ID = 'sim';
/** 2026-01-01T00:00:00Z: the genesis time; virtual time 0 is shortly after it. */
export const GENESIS_TIME = 1_767_225_600_000;
export const EPOCH = GENESIS_TIME + 60_000;

export interface ChainParams {
  readonly n: number;
  readonly clients: number;
  readonly crypto: CryptoMode;
  readonly maxBlockTxs: number;
  readonly checkpointInterval: number;
  readonly windowSize: number;
  readonly viewTimeoutMs: number;
  readonly maxViewTimeoutMs: number;
  readonly retransmitMs: number;
  readonly maxClockSkewMs: number;
}

export const DEFAULT_CHAIN_PARAMS: ChainParams = {
  n: 4,
  clients: 8,
  crypto: 'fake',
  maxBlockTxs: 50,
  checkpointInterval: 8,
  windowSize: 16,
  viewTimeoutMs: 1_000,
  maxViewTimeoutMs: 8_000,
  retransmitMs: 300,
  maxClockSkewMs: 1_000,
};

export interface SimChain {
  readonly params: ChainParams;
  readonly keys: SimKeys;
  readonly genesis: Genesis;
  readonly genesisHash: Hash;
  readonly genesisState: LedgerState;
  readonly execution: ExecutionContext;
  replicaConfig(self: number): ReplicaConfig;
}

export function makeSimChain(params: ChainParams): SimChain {
  const keys = makeSimKeys(params.crypto, SIM_CHAIN_ID, params.n, params.clients);
  const genesis: Genesis = {
    chainId: SIM_CHAIN_ID,
    genesisTime: GENESIS_TIME,
    validators: keys.validators.map((publicKey, i) => ({
      name: `r${i}`,
      publicKey,
      address: addressOf(publicKey),
      p2p: `/ip4/10.0.0.${i + 1}/tcp/26656`,
    })),
    accounts: keys.clientAddresses.map((address) => ({
      address,
      balance: 1n << 50n,
      canTransact: true,
      isAdmin: false,
    })),
    consensus: {
      maxBlockTxs: params.maxBlockTxs,
      maxBlockBytes: 4 * 1024 * 1024,
      checkpointInterval: params.checkpointInterval,
      windowSize: params.windowSize,
      viewTimeoutMs: params.viewTimeoutMs,
      maxViewTimeoutMs: params.maxViewTimeoutMs,
    },
  };
  const hash = genesisHash(genesis);
  return {
    params,
    keys,
    genesis,
    genesisHash: hash,
    genesisState: genesisState(genesis),
    execution: executionContext(genesis, keys.verifier),
    replicaConfig: (self) => ({
      chainId: SIM_CHAIN_ID,
      genesisHash: hash,
      validators: keys.validators,
      self,
      checkpointInterval: params.checkpointInterval,
      windowSize: params.windowSize,
      viewTimeoutMs: params.viewTimeoutMs,
      maxViewTimeoutMs: params.maxViewTimeoutMs,
      retransmitMs: params.retransmitMs,
      maxClockSkewMs: params.maxClockSkewMs,
      checkInvariants: true,
    }),
  };
}
