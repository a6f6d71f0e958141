import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import type { Tx } from '../../src/codec/types.js';
import { RpcServer } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 3, balance: 1_000n });
const b64 = (tx: Tx): string => Buffer.from(encodeTx(tx)).toString('base64');

async function call(url: string, method: string, params: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return res.json();
}

describe('the account method', () => {
  let server: RpcServer;
  let node: FakeNode;
  let url: string;

  beforeAll(async () => {
    node = new FakeNode(tn);
    server = new RpcServer({ port: 0 }, node);
    await server.start();
    url = server.url as string;
  });

  afterAll(async () => {
    await server.stop();
  });

  it('reports balance, nonce and permissions as committed, with u64s as decimal strings', async () => {
    const reply = await call(url, 'account', { address: tn.addresses[0] });
    expect(reply.result).toEqual({
      address: tn.addresses[0],
      height: 0,
      balance: '1000',
      nonce: '0',
      pending_nonce: '0',
      can_transact: true,
      is_admin: expect.any(Boolean),
    });
  });

  it('counts txs waiting in the mempool in pending_nonce, and stops at a gap', async () => {
    for (const nonce of [0n, 1n, 3n]) {
      const submitted = await call(url, 'broadcast_tx_sync', { tx: b64(tn.signTransfer(1, 2, 1n, nonce)) });
      expect(submitted.error).toBeUndefined();
    }
    const before = (await call(url, 'account', { address: tn.addresses[1] })).result;
    expect([before.nonce, before.pending_nonce]).toEqual(['0', '2']);
    node.commitPending();
    const after = (await call(url, 'account', { address: tn.addresses[1] })).result;
    expect([after.nonce, after.pending_nonce, after.balance, after.height]).toEqual(['2', '2', '998', 1]);
  });

  it('reads an unknown address as an empty account that cannot transact', async () => {
    const nobody = 'ab'.repeat(20);
    const reply = await call(url, 'account', { address: nobody.toUpperCase() });
    expect(reply.result).toMatchObject({ address: nobody, balance: '0', nonce: '0', can_transact: false, is_admin: false });
  });

  it('names the address param when it is not an address', async () => {
    const reply = await call(url, 'account', { address: 'xyz' });
    expect(reply.error.code).toBe(-32602);
    expect(reply.error.message).toContain('address');
  });
});
