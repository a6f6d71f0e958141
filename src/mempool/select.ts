import type { Address } from '../crypto/address.js';
import type { Tx } from '../codec/types.js';
import type { LedgerState } from '../ledger/state.js';
import { MIN_TX_BYTES } from '../codec/tx.js';
import type { Entry, SenderQueue } from './entry.js';

/**
 * Choosing a block's txs. The output must apply cleanly, in order, on the parent state (the
 * proposer's buildBlock would otherwise leave holes, and the replicas run the same rules),
 * so selection replays the ledger's stateful rules on a scratch copy of the accounts it
 * touches: nonce, permission, admin-only grant/revoke, balance, and the effects of transfers
 * and grants/revokes on later txs of the same block. These rules mirror applyTx in
 * src/ledger/execute.ts; the property test in test/mempool/select.test.ts checks every
 * selection with applyTx, so a drift between the two fails there.
 *
 * Order: arrival order, except that a sender's txs go strictly by nonce from the parent's
 * nonce. A tx that arrived before its predecessor is taken right after the predecessor. A
 * sender stops for the rest of the block at its first tx that cannot go in (a gap, an
 * excluded tx, a failed rule, or no room), since none of its later nonces could follow.
 *
 * Cost: every entry is visited at most twice (once in arrival order, once when a
 * predecessor pulls it in), and each visit is a few map lookups: O(pool size) per block.
 */

const U64_MAX = (1n << 64n) - 1n;

export interface BlockLimits {
  readonly maxTxs: number;
  /** Bound on the sum of the selected txs' encoded sizes. */
  readonly maxBytes: number;
}

interface ScratchAccount {
  balance: bigint;
  nonce: bigint;
  canTransact: boolean;
  readonly isAdmin: boolean;
  /** No more txs from this sender in this block. */
  stopped: boolean;
}

class Scratch {
  private readonly accounts = new Map<Address, ScratchAccount>();

  constructor(private readonly parent: LedgerState) {}

  account(address: Address): ScratchAccount {
    let a = this.accounts.get(address);
    if (a === undefined) {
      const stored = this.parent.account(address);
      a = { balance: stored.balance, nonce: stored.nonce, canTransact: stored.canTransact, isAdmin: stored.isAdmin, stopped: false };
      this.accounts.set(address, a);
    }
    return a;
  }

  /** Applies `tx` (whose nonce is `from`'s) if the ledger would accept it; false leaves all unchanged. */
  apply(from: ScratchAccount, tx: Tx): boolean {
    if (!from.canTransact || from.nonce === U64_MAX) return false;
    const body = tx.body;
    switch (body.kind) {
      case 'transfer': {
        if (from.balance < body.amount) return false;
        const to = this.account(body.to);
        if (to.balance + body.amount > U64_MAX) return false;
        from.balance -= body.amount;
        from.nonce += 1n;
        // Read after the sender's update, as the ledger does (a self-transfer never gets here: it is malformed).
        to.balance += body.amount;
        return true;
      }
      case 'put':
        from.nonce += 1n;
        return true;
      case 'grant':
      case 'revoke':
        if (!from.isAdmin) return false;
        from.nonce += 1n;
        this.account(body.account).canTransact = body.kind === 'grant';
        return true;
    }
  }
}

export function selectTxs(
  arrivals: Iterable<Entry>,
  queueOf: (sender: Address) => SenderQueue | undefined,
  parent: LedgerState,
  limits: BlockLimits,
  exclude: ReadonlySet<string>,
): Tx[] {
  const out: Tx[] = [];
  if (limits.maxTxs <= 0) return out;
  const scratch = new Scratch(parent);
  let bytes = 0;

  const take = (entry: Entry): boolean => {
    if (exclude.has(entry.hashHex)) return false;
    const from = scratch.account(entry.sender);
    // A nonce below the sender's is stale (committed or in an in-flight block); above it, the
    // tx waits for its predecessor. Neither stops the sender.
    if (from.stopped || entry.nonce !== from.nonce) return false;
    if (bytes + entry.size > limits.maxBytes || !scratch.apply(from, entry.tx)) {
      from.stopped = true;
      return false;
    }
    out.push(entry.tx);
    bytes += entry.size;
    return true;
  };

  for (const entry of arrivals) {
    if (out.length >= limits.maxTxs || limits.maxBytes - bytes < MIN_TX_BYTES) break;
    if (!take(entry)) continue;
    // Pull in the sender's next nonces that arrived earlier (and so were passed over);
    // later arrivals are taken when the loop reaches them.
    const queue = queueOf(entry.sender);
    if (queue === undefined) continue;
    const from = scratch.account(entry.sender);
    for (let next = queue.get(from.nonce); next !== undefined && next.seq < entry.seq; next = queue.get(from.nonce)) {
      if (out.length >= limits.maxTxs || !take(next)) break;
    }
  }
  return out;
}
