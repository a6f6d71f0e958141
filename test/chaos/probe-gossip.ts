/**
 * Probe (not a test): a tx admitted by a validator while it is cut off from the others.
 * `npx tsx test/chaos/probe-gossip.ts`
 */
import '../../src/polyfill.js';
import { encodeTx } from '../../src/codec/tx.js';
import { addressOf, toHex, type KeyPair } from '../../src/crypto/index.js';
import { hashTx, signTx } from '../../src/ledger/tx.js';
import { ChaosNetwork, CHAIN_ID, sleep } from './network.js';

const net = await ChaosNetwork.create({ n: 4, accounts: 2, viewTimeoutMs: 1000, random: Math.random });
try {
  await Promise.all([0, 1, 2, 3].map((i) => net.start(i)));
  await sleep(3000);
  const target = 3; // not the primary of view 0
  net.proxy.isolate(target, [0, 1, 2]);
  await sleep(500);
  const key = net.accounts[0] as KeyPair;
  const tx = signTx({ chainId: CHAIN_ID, sender: key.publicKey, nonce: 0n, body: { kind: 'transfer', to: addressOf((net.accounts[1] as KeyPair).publicKey), amount: 1n } }, key);
  const hash = toHex(hashTx(tx));
  const r = await net.call(target, 'broadcast_tx_sync', { tx: Buffer.from(encodeTx(tx)).toString('base64') });
  console.log('admitted at node3 while isolated:', JSON.stringify(r));
  await sleep(1000);
  for (const o of [0, 1, 2]) net.proxy.heal(target, o);
  console.log('healed; waiting 40 s');
  for (let t = 0; t < 40; t += 5) {
    await sleep(5000);
    const where = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const c = await net.call(i, 'tx', { hash });
      const s = await net.status(i);
      const m = await net.call(i, 'num_unconfirmed_txs');
      return `node${i}: ${c.ok ? 'COMMITTED' : 'no'} view ${s?.view} h ${s?.latest_height} mempool ${m.ok ? (m.value as { count: number }).count : '?'}`;
    }));
    console.log(`t+${t + 5}s`, where.join(' | '));
  }
} finally {
  await net.destroy(false);
}
