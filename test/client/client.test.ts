/**
 * LedgerClient and the ledgerctl read commands against a real 4-validator network (one
 * E2ECluster: real ledger-node processes). Every RPC method is called through the client
 * and its typed result checked against the others'; verified reads pass; and a lying
 * node — a proxy that forwards to a real node but rewrites its JSON — is caught by
 * verifiedAccount and `ledgerctl account --verify`, while without --verify its lie is
 * printed (which is the point of --verify).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import type { Tx } from '../../src/codec/types.js';
import { addressOf, bytesEqual, generateKeyPair, parseKeyFile, toHex, type KeyPair } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { genesisHash, parseGenesis, type Genesis } from '../../src/ledger/genesis.js';
import { hashTx, signTx } from '../../src/ledger/tx.js';
import { E2ECluster } from '../e2e/cluster.js';

// ---------------------------------------------------------------------------------------
// A lying node: forwards JSON-RPC to a real node and rewrites the answers as told. It has
// no WebSocket endpoint (upgrades are refused), which the fallback tests use.

type Rewrite = (method: string, result: Record<string, any>) => void;

interface LyingProxy {
  readonly url: string;
  lie: Rewrite | undefined;
  close(): Promise<void>;
}

async function lyingProxy(target: string): Promise<LyingProxy> {
  const proxy: { lie: Rewrite | undefined } = { lie: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (typeof req.headers.authorization === 'string') headers['authorization'] = req.headers.authorization;
      fetch(target, { method: 'POST', headers, body })
        .then(async (answer) => {
          const json = (await answer.json()) as { result?: Record<string, any> };
          const method = (JSON.parse(body) as { method: string }).method;
          if (json.result !== undefined && proxy.lie !== undefined) proxy.lie(method, json.result);
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  server.on('upgrade', (_req, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get lie() {
      return proxy.lie;
    },
    set lie(rewrite: Rewrite | undefined) {
      proxy.lie = rewrite;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Changes one hex digit: the same shape, another value. */
function flip(hex: string, at = 0): string {
  return hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
}

// ---------------------------------------------------------------------------------------

let cluster: E2ECluster;
let client: LedgerClient;
let proxy: LyingProxy;
let genesis: Genesis;
let genesisFile: string;
let admin: KeyPair;
let alice: KeyPair;
let bob: KeyPair;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function ledgerctl(argv: string[], interrupt?: AbortSignal): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), cwd: cluster.dir, env: {}, ...(interrupt === undefined ? {} : { interrupt }) };
  const code = await runLedgerctl(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  cluster = await E2ECluster.create(4);
  await cluster.startAll();
  client = new LedgerClient({ url: cluster.rpcUrl(0), timeoutMs: 10_000 });
  proxy = await lyingProxy(cluster.rpcUrl(0));
  genesisFile = join(cluster.dir, 'genesis.json');
  const parsed = parseGenesis(await readFile(genesisFile, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error.message);
  genesis = parsed.value;
  admin = cluster.client;
  const key = async (name: string) => parseKeyFile(name, await readFile(join(cluster.dir, 'accounts', `${name}.key.json`), 'utf8'));
  alice = await key('account0');
  bob = await key('account1');
}, 60_000);

afterAll(async () => {
  client?.close();
  await proxy?.close();
  await cluster?.destroy();
});

describe('LedgerClient against a real network', () => {
  it('reads the node, its network and the validator set', async () => {
    const status = await client.status();
    expect(status.chainId).toBe('e2e');
    expect(status.validatorIndex).toBe(0);
    expect((await client.health()).ok).toBe(true);

    const set = await client.validators();
    expect([set.count, set.quorum]).toEqual([4, 3]);
    expect(set.validators.map((v) => toHex(v.publicKey))).toEqual(genesis.validators.map((v) => toHex(v.publicKey)));

    const fromNode = await client.genesis();
    expect(toHex(fromNode.genesisHash)).toBe(toHex(genesisHash(genesis)));
    expect(fromNode.genesis.chainId).toBe('e2e');

    await expect.poll(async () => (await client.netInfo()).connectedPeers, { timeout: 10_000 }).toBe(3);
    const net = await client.netInfo();
    expect(net.peers.map((p) => p.name).sort()).toEqual(['node1', 'node2', 'node3']);
    expect(await client.evidence()).toEqual([]);
  });

  it('builds a transfer (nonce from the node), submits it and waits; every read finds it', async () => {
    const to = addressOf(generateKeyPair().publicKey);
    const tx = await client.transfer({ from: alice, to, amount: 25n });
    expect(tx.nonce).toBe(0n);
    const at = await client.submitAndWait(tx, { timeoutMs: 15_000 });
    expect(toHex(at.hash)).toBe(toHex(hashTx(tx)));

    const found = await client.tx(at.hash);
    expect([found.height, found.index]).toEqual([at.height, at.index]);
    expect(found.tx.body).toEqual({ kind: 'transfer', to, amount: 25n });

    const block = await client.block(at.height);
    expect(block.block.txs.map((t) => toHex(hashTx(t)))).toContain(toHex(at.hash));
    expect(toHex(block.hash)).toBe(toHex(hashBlockHeader(block.header)));
    expect(toHex((await client.blockByHash(block.hash)).hash)).toBe(toHex(block.hash));
    expect(toHex((await client.header(at.height)).hash)).toBe(toHex(block.hash));
    const commit = await client.commit(at.height);
    expect(commit.certificate.signatures.length).toBeGreaterThanOrEqual(3);
    const chain = await client.blockchain({ maxHeight: at.height });
    expect(chain.headers[0]!.header.height).toBe(at.height);
    expect(chain.headers.map((h) => h.header.height)).toEqual(Array.from({ length: at.height }, (_, i) => at.height - i));

    const search = await client.txSearch({ sender: addressOf(alice.publicKey) });
    expect(search.txs.map((t) => toHex(t.hash))).toContain(toHex(at.hash));
    expect((await client.account(to)).balance).toBe(25n);
    expect((await client.account(addressOf(alice.publicKey))).nonce).toBe(1n);

    const put = await client.put({ from: alice, key: 'greeting', value: 'hello' });
    expect(put.nonce).toBe(1n);
    await client.submitAndWait(put);
    const record = await client.query(addressOf(alice.publicKey), 'greeting');
    expect(Buffer.from(record.value!).toString()).toBe('hello');
    expect((await client.query(addressOf(alice.publicKey), 'nothing')).value).toBeUndefined();
  });

  it('broadcasts async, sync and commit, and reports rejections by code', async () => {
    const to = addressOf(generateKeyPair().publicKey);
    const first = await client.transfer({ from: admin, to, amount: 1n });
    const async = await client.broadcastTxAsync(first);
    expect(toHex(async.hash)).toBe(toHex(hashTx(first)));
    await expect.poll(async () => (await client.tx(async.hash).catch(() => undefined))?.height, { timeout: 10_000 }).toBeGreaterThan(0);

    const second = await client.transfer({ from: admin, to, amount: 2n });
    expect((await client.broadcastTxSync(second)).duplicate).toBe(false);
    expect((await client.broadcastTxSync(second)).duplicate).toBe(true);
    const third = await client.transfer({ from: admin, to, amount: 3n, nonce: second.nonce + 1n });
    const committed = await client.broadcastTxCommit(third, { timeoutMs: 10_000 });
    expect(committed.height).toBeGreaterThan(0);
    expect((await client.account(to)).balance).toBe(6n);

    // Signed by someone else in admin's name: refused with the admission code.
    const forged = { ...third, nonce: third.nonce + 1n, signature: signTx({ ...third, nonce: third.nonce + 1n, sender: bob.publicKey }, bob).signature } satisfies Tx;
    const rejected = await client.broadcastTxSync(forged).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ClientError);
    expect((rejected as ClientError).info).toEqual({ code: 'tx-rejected', reason: 'bad-signature' });
    // A used nonce, another tx: bad-nonce.
    const stale = await client.transfer({ from: admin, to, amount: 9n, nonce: 0n });
    await expect(client.broadcastTxSync(stale)).rejects.toMatchObject({ info: { code: 'tx-rejected', reason: 'bad-nonce' } });
    await expect(client.tx('00'.repeat(32))).rejects.toMatchObject({ info: { code: 'not-found', param: 'hash' } });
  });

  it('grants and revokes (admin txs), and a non-admin is refused', async () => {
    const newcomer = generateKeyPair();
    const address = addressOf(newcomer.publicKey);
    await client.submitAndWait(await client.transfer({ from: admin, to: address, amount: 50n }));
    expect((await client.account(address)).canTransact).toBe(false);
    await client.submitAndWait(await client.grant({ from: admin, account: address }));
    expect((await client.verifiedAccount(address, genesis)).canTransact).toBe(true);
    const spent = await client.submitAndWait(await client.transfer({ from: newcomer, to: addressOf(bob.publicKey), amount: 5n }));
    expect((await client.tx(spent.hash)).tx.nonce).toBe(0n);
    await expect(client.revoke({ from: alice, account: address }).then((tx) => client.broadcastTxSync(tx))).rejects.toMatchObject({
      info: { code: 'tx-rejected', reason: 'not-permitted' },
    });
    await client.submitAndWait(await client.revoke({ from: admin, account: address }));
    const after = await client.verifiedAccount(address, genesis);
    expect([after.canTransact, after.balance, after.nonce]).toEqual([false, 45n, 1n]);
    const certified = await client.verifiedCommit(after.height, genesis);
    expect(toHex(certified.hash)).toBe(toHex(after.commit!.hash));
  });

  it('shows a tx that cannot commit yet as pending, times submitAndWait out with its hash, then commits it', async () => {
    const to = addressOf(generateKeyPair().publicKey);
    const next = await client.nextNonce(addressOf(bob.publicKey));
    const later = await client.transfer({ from: bob, to, amount: 4n, nonce: next + 1n }); // a nonce gap: it waits
    const timedOut = await client.submitAndWait(later, { timeoutMs: 600 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ClientError);
    expect((timedOut as ClientError).info).toEqual({ code: 'commit-timeout', hash: toHex(hashTx(later)), timeoutMs: 600 });

    const pending = await client.unconfirmedTxs();
    expect(pending.txs.map((t) => toHex(t.hash))).toContain(toHex(hashTx(later)));
    expect(pending.txs.every((t) => bytesEqual(t.hash, hashTx(t.tx)))).toBe(true);
    expect((await client.numUnconfirmedTxs()).count).toBeGreaterThanOrEqual(1);

    // Filling the gap lets both commit; waiting again on the same tx is harmless.
    await client.submitAndWait(await client.transfer({ from: bob, to, amount: 3n, nonce: next }));
    const at = await client.submitAndWait(later, { timeoutMs: 15_000 });
    expect((await client.tx(at.hash)).height).toBe(at.height);
    expect((await client.account(to)).balance).toBe(7n);
  });

  it('submitAndWait returns a commit that landed before it subscribed, and many waits in flight all return', async () => {
    const to = addressOf(generateKeyPair().publicKey);
    const tx = await client.transfer({ from: admin, to, amount: 5n });
    const committed = await client.broadcastTxCommit(tx, { timeoutMs: 10_000 });
    const started = Date.now();
    const again = await client.submitAndWait(tx, { timeoutMs: 5_000 });
    expect([again.height, again.index]).toEqual([committed.height, committed.index]);
    expect(Date.now() - started).toBeLessThan(2_000);

    const base = await client.nextNonce(addressOf(admin.publicKey));
    const batch = await Promise.all(Array.from({ length: 6 }, (_, i) => client.transfer({ from: admin, to, amount: 1n, nonce: base + BigInt(i) })));
    const places = await Promise.all(batch.map((t) => client.submitAndWait(t, { timeoutMs: 15_000 })));
    expect(places.map((p) => toHex(p.hash))).toEqual(batch.map((t) => toHex(hashTx(t))));
    expect((await client.account(to)).balance).toBe(11n);
  });

  it('submitAndWait falls back to asking by hash when the node has no WebSocket', async () => {
    const viaProxy = new LedgerClient({ url: proxy.url });
    try {
      await expect(viaProxy.subscribeBlocks(() => {})).rejects.toMatchObject({ code: 'socket' });
      const tx = await viaProxy.transfer({ from: alice, to: addressOf(bob.publicKey), amount: 1n });
      const at = await viaProxy.submitAndWait(tx, { timeoutMs: 15_000 });
      expect((await client.tx(at.hash)).height).toBe(at.height);
    } finally {
      viaProxy.close();
    }
  });

  it('streams committed blocks and a sender’s txs', async () => {
    const blocks: number[] = [];
    const blockHashes = new Map<number, string>();
    const sent: string[] = [];
    const onBlocks = await client.subscribeBlocks((b) => {
      blocks.push(b.height);
      blockHashes.set(b.height, toHex(b.hash));
    });
    const onTxs = await client.subscribeTxs({ sender: addressOf(bob.publicKey) }, (t) => sent.push(toHex(t.hash)));
    const tx = await client.transfer({ from: bob, to: addressOf(alice.publicKey), amount: 1n });
    const at = await client.submitAndWait(tx);
    await expect.poll(() => sent).toContain(toHex(at.hash));
    await expect.poll(() => blocks).toContain(at.height);
    expect(blockHashes.get(at.height)).toBe(toHex((await client.verifiedBlock(at.height, genesis)).commit.hash));
    expect(blocks).toEqual([...blocks].sort((a, b) => a - b));
    await onBlocks.unsubscribe();
    await onTxs.unsubscribe();
    expect(await onBlocks.ended).toBeUndefined();
  });

  it('verifies accounts, records, txs and blocks against the genesis', async () => {
    const a = await client.verifiedAccount(addressOf(alice.publicKey), genesis);
    expect(a.balance).toBe((await client.account(addressOf(alice.publicKey))).balance);
    expect(a.commit?.certificate.signatures.length).toBeGreaterThanOrEqual(3);
    const record = await client.verifiedQuery(addressOf(alice.publicKey), 'greeting', genesis);
    expect(Buffer.from(record.value!).toString()).toBe('hello');
    expect((await client.verifiedQuery(addressOf(alice.publicKey), 'nothing', genesis)).value).toBeUndefined();
    const nobody = await client.verifiedAccount(addressOf(generateKeyPair().publicKey), genesis);
    expect(nobody.balance).toBe(0n);

    const hit = (await client.txSearch({ sender: addressOf(alice.publicKey) })).txs[0]!;
    const v = await client.verifiedTx(hit.hash, genesis);
    expect([v.height, v.index]).toEqual([hit.height, hit.index]);
    const block = await client.verifiedBlock(undefined, genesis);
    expect(block.commit.height).toBe((await client.status()).latestHeight);
  });
});

describe('a lying node', () => {
  const who = () => addressOf(alice.publicKey);

  async function caught(promise: Promise<unknown>): Promise<ClientError> {
    const e = await promise.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).code).toBe('verification-failed');
    return e as ClientError;
  }

  it('is caught by verifiedAccount whatever it forges: the value, a proof sibling, a certificate, a header', async () => {
    const liar = new LedgerClient({ url: proxy.url });
    try {
      proxy.lie = (method, r) => {
        if (method === 'account') r['balance'] = '424242424242';
      };
      expect((await liar.account(who())).balance).toBe(424242424242n);
      const value = await caught(liar.verifiedAccount(who(), genesis));
      expect(value.info).toEqual({ code: 'verification-failed', check: 'value' });
      expect(value.message).toContain('balance 424242424242');

      proxy.lie = (method, r) => {
        if (method === 'account') r['proof']['smt']['siblings'][0] = flip(r['proof']['smt']['siblings'][0]);
      };
      expect((await caught(liar.verifiedAccount(who(), genesis))).info).toMatchObject({ check: 'state-proof' });

      proxy.lie = (method, r) => {
        if (method === 'commit') r['certificate']['signatures'][0]['signature'] = flip(r['certificate']['signatures'][0]['signature'], 3);
      };
      expect((await caught(liar.verifiedAccount(who(), genesis))).info).toMatchObject({ check: 'certificate' });

      proxy.lie = (method, r) => {
        if (method === 'commit') r['header']['state_root'] = flip(r['header']['state_root']);
        if (method === 'account') r['proof']['state_root'] = flip(r['proof']['state_root']);
      };
      expect((await caught(liar.verifiedAccount(who(), genesis))).info).toMatchObject({ check: 'header-hash' });

      proxy.lie = (method, r) => {
        if (method === 'tx') r['proof']['tx_root'] = flip(r['proof']['tx_root']);
      };
      const hit = (await client.txSearch({ sender: who() })).txs[0]!;
      expect((await caught(liar.verifiedTx(hit.hash, genesis))).info).toMatchObject({ check: 'tx-root' });

      proxy.lie = (method, r) => {
        if (method === 'query' && r['value'] !== null) r['value'] = Buffer.from('goodbye').toString('base64');
      };
      expect((await caught(liar.verifiedQuery(who(), 'greeting', genesis))).info).toMatchObject({ check: 'value' });
    } finally {
      proxy.lie = undefined;
      liar.close();
    }
  });

  it('is caught by ledgerctl --verify (exit 1, one line saying what failed); without --verify its lie is printed', async () => {
    proxy.lie = (method, r) => {
      if (method === 'account') r['balance'] = '424242424242';
    };
    try {
      const believed = await ledgerctl(['account', who(), '--rpc', proxy.url]);
      expect(believed.code).toBe(0);
      expect(believed.stdout).toMatch(/balance:\s+424242424242/);

      const verified = await ledgerctl(['account', who(), '--rpc', proxy.url, '--verify', '--genesis', genesisFile]);
      expect(verified.code).toBe(1);
      expect(verified.stdout).toBe('');
      expect(verified.stderr.trim().split('\n')).toHaveLength(1);
      expect(verified.stderr).toMatch(/^error: verification failed \(value\): account [0-9a-f]{40} at height \d+: the node reported balance 424242424242 \(proven: \d+\)/);
      expect(verified.stderr).toContain(`the node at ${proxy.url} is lying or faulty`);

      const honest = await ledgerctl(['account', who(), '--rpc', cluster.rpcUrl(1), '--verify', '--genesis', genesisFile]);
      expect(honest.code, honest.stderr).toBe(0);
      expect(honest.stdout).toMatch(/verified:\s+yes: block \d+ [0-9a-f]{16}\.\. certified by [34] of 4 genesis validators/);

      proxy.lie = (method, r) => {
        if (method === 'query' && r['value'] !== null) r['value'] = Buffer.from('goodbye').toString('base64');
      };
      expect((await ledgerctl(['query', who(), 'greeting', '--rpc', proxy.url])).stdout).toContain('"goodbye"');
      const query = await ledgerctl(['query', who(), 'greeting', '--rpc', proxy.url, '--verify', '--genesis', genesisFile]);
      expect([query.code, query.stderr]).toEqual([1, expect.stringContaining('verification failed (value)')]);
    } finally {
      proxy.lie = undefined;
    }
  });

  it('--verify needs a genesis file unless told to trust the node', async () => {
    const refused = await ledgerctl(['account', who(), '--verify']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--genesis FILE');
    const trusting = await ledgerctl(['account', who(), '--rpc', cluster.rpcUrl(0), '--verify', '--trust-genesis-from-node', '--json']);
    expect(trusting.code, trusting.stderr).toBe(0);
    expect(trusting.stderr).toContain('warning: --trust-genesis-from-node');
    expect(JSON.parse(trusting.stdout)).toMatchObject({ address: who(), verified: true });
  });
});

describe('ledgerctl reads', () => {
  it('status, validators, block, tx and query, readable and as JSON', async () => {
    const rpc = cluster.rpcUrl(2);
    const status = await ledgerctl(['status', '--rpc', rpc, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ chainId: 'e2e', validatorIndex: 2 });
    expect((await ledgerctl(['validators', '--rpc', rpc])).stdout).toMatch(/^4 validators; f = 1; a certificate needs 3 signatures\n/);

    const hit = (await client.txSearch({ sender: addressOf(alice.publicKey), order: 'desc' })).txs[0]!;
    const block = await ledgerctl(['block', String(hit.height), '--rpc', rpc, '--verify', '--genesis', genesisFile]);
    expect(block.code, block.stderr).toBe(0);
    expect(block.stdout).toContain(`block ${hit.height}`);
    expect(block.stdout).toContain(toHex(hit.hash));
    expect(block.stdout).toMatch(/verified:\s+yes/);
    const blockJson = JSON.parse((await ledgerctl(['block', String(hit.height), '--rpc', rpc, '--json'])).stdout);
    expect(blockJson.header.height).toBe(hit.height);

    const tx = await ledgerctl(['tx', toHex(hit.hash), '--rpc', rpc, '--verify', '--genesis', genesisFile]);
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stdout).toContain(`block:     ${hit.height}, index ${hit.index}`);
    expect(tx.stdout).toMatch(/verified:\s+yes: included in block/);
    const txJson = JSON.parse((await ledgerctl(['tx', toHex(hit.hash), '--rpc', rpc, '--json'])).stdout);
    expect(txJson).toMatchObject({ hash: toHex(hit.hash), height: hit.height, tx: { sender: addressOf(alice.publicKey) } });
    const missing = await ledgerctl(['tx', '00'.repeat(32), '--rpc', rpc]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('not found')]);

    const query = await ledgerctl(['query', addressOf(alice.publicKey), 'greeting', '--rpc', rpc, '--verify', '--genesis', genesisFile]);
    expect(query.stdout).toMatch(/value:\s+"hello"/);
  });

  it('tx subcommands still send txs, waiting through the client', async () => {
    const key = join(cluster.dir, 'accounts', 'account1.key.json');
    const to = addressOf(generateKeyPair().publicKey);
    const sent = await ledgerctl(['tx', 'transfer', '--to', to, '--amount', '9', '--key', key, '--rpc', cluster.rpcUrl(3), '--wait', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const result = JSON.parse(sent.stdout) as { hash: string; height: number };
    // Read from the node that was waited on: another may not have stored the block yet.
    const waitedOn = new LedgerClient({ url: cluster.rpcUrl(3), timeoutMs: 10_000 });
    expect((await waitedOn.tx(result.hash)).height).toBe(result.height);
    expect((await waitedOn.account(to)).balance).toBe(9n);
  });

  it('watch streams blocks as they commit, until interrupted', async () => {
    const stop = new AbortController();
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), cwd: cluster.dir, env: {}, interrupt: stop.signal };
    const running = runLedgerctl(['watch', '--rpc', cluster.rpcUrl(1)], io);
    // It says so once subscribed: blocks committed from then on are streamed.
    await expect.poll(() => stderr, { timeout: 10_000 }).toContain('watching e2e');
    const to = addressOf(generateKeyPair().publicKey);
    const first = await client.submitAndWait(await client.transfer({ from: admin, to, amount: 1n }));
    const second = await client.submitAndWait(await client.transfer({ from: admin, to, amount: 1n }));
    await expect.poll(() => stdout, { timeout: 10_000 }).toContain(`height ${second.height} `);
    expect(stdout).toContain(`height ${first.height} `);
    expect(stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}height \d+ {2}[0-9a-f]{16}\.\. {2}1 tx {5}proposer \d+ {2}view \d+ {2}signed by [34]$/m);
    stop.abort();
    expect(await running, stderr).toBe(0);
  });
});
