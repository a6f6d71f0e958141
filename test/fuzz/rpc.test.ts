/**
 * The JSON-RPC endpoint under generated traffic: a real RpcServer (127.0.0.1, port 0) over
 * a FakeNode (a real mempool and chain queries), driven with valid and mangled requests —
 * methods, params, ids and batches of every wrong shape, huge numbers, deep nesting,
 * unicode, and calls with and without the bearer token. Every answer must be valid
 * JSON-RPC 2.0 with the error code class a model of the spec predicts, the server must keep
 * serving, and its memory must stay flat across the run.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import { toHex } from '../../src/crypto/bytes.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { METHODS } from '../../src/rpc/methods.js';
import { RpcServer } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from '../rpc/fake-node.js';
import { arbHostileJson } from './mutate.js';

const tn = makeTestnet({ accounts: 4, balance: 1_000_000n });
const TOKEN = 'fuzz-token-0123456789abcdef';
const MAX_BATCH = 20;
const WRITE_METHODS = new Set(METHODS.filter((m) => m.write === true).map((m) => m.name));
const NAMES = METHODS.map((m) => m.name);

// ---------------------------------------------------------------------------------------
// Generators

const arbId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.constantFrom(0, -1, 2 ** 53, 1e308, -0, 0.5, '', '💥')) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(true, false, {}, [], [1], { id: 1 }) },
);

const arbHex = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => toHex(b));

/** A signed transfer with a random nonce: admitted, a duplicate, or refused for its nonce. */
const arbSignedTx: fc.Arbitrary<string> = fc
  .tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 0n, max: 80n }))
  .map(([from, to, amount, nonce]) => Buffer.from(encodeTx(tn.signTransfer(from, to, amount, nonce))).toString('base64'));

/** Params that are well typed for `name` (they may still name things that do not exist). */
function arbGoodParams(name: string): fc.Arbitrary<unknown> {
  const height = fc.integer({ min: 1, max: 5 });
  switch (name) {
    case 'broadcast_tx_async':
    case 'broadcast_tx_sync':
      return fc.oneof(arbSignedTx, fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64'))).map((tx) => ({ tx }));
    case 'broadcast_tx_commit':
      // Junk bytes only: a tx that is admitted would wait for a commit the fake never makes.
      return fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => ({ tx: Buffer.from(b).toString('base64'), timeout_ms: 50 }));
    case 'account':
      return fc.record({ address: fc.oneof(fc.constantFrom(...tn.addresses), arbHex(20)), prove: fc.boolean() });
    case 'query':
      return fc.record({ owner: fc.constantFrom(...tn.addresses), key: fc.string({ minLength: 1, maxLength: 30 }).filter((k) => Buffer.byteLength(k) <= 256 && Buffer.from(k, 'utf8').toString('utf8') === k), prove: fc.boolean() });
    case 'block':
    case 'header':
    case 'commit':
      return fc.oneof(fc.constant({}), height.map((h) => ({ height: h })), height.map((h) => [h]));
    case 'block_by_hash':
      return arbHex(32).map((hash) => ({ hash }));
    case 'tx':
      return fc.record({ hash: arbHex(32), prove: fc.boolean() });
    case 'blockchain':
      return fc.record({ min_height: height, max_height: height });
    case 'tx_search':
      return fc.record({ sender: fc.constantFrom(...tn.addresses), page: fc.integer({ min: 1, max: 3 }), per_page: fc.integer({ min: 1, max: 100 }), order: fc.constantFrom('asc', 'desc') });
    case 'unconfirmed_txs':
      return fc.record({ limit: fc.integer({ min: 1, max: 100 }) });
    default:
      return fc.constantFrom<unknown>(undefined, {}, [], null);
  }
}

/** Params of the wrong shape: wrong types, unknown names, surplus positions, huge or deep values. */
const arbBadParams: fc.Arbitrary<unknown> = fc.oneof(
  arbHostileJson,
  fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('tx', 'height', 'address', '__proto__', 'constructor')), arbHostileJson, { maxKeys: 3 }),
  fc.array(arbHostileJson, { maxLength: 8 }),
  fc.constantFrom<unknown>({ height: -1 }, { height: 1.5 }, { height: 1e308 }, { height: '1' }, { height: 2 ** 53 }, { tx: '' }, { tx: '====' }, { tx: 'a'.repeat(30_000) }, { address: 'G'.repeat(40) }),
);

interface Req {
  readonly body: unknown;
  /** Whether the model expects a well-typed call to get past param checks. */
  readonly goodParams: boolean;
}

const arbMethod: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'STATUS', 'status ', 'sübscribe', '💥', 'x'.repeat(5000))) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 1, true, {}, ['status']) },
);

const arbRequest: fc.Arbitrary<Req> = fc
  .record({
    method: arbMethod,
    good: fc.boolean(),
    id: fc.option(arbId, { nil: undefined, freq: 6 }),
    jsonrpc: fc.oneof({ weight: 12, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, '1.0', 2, '2.00', null) }),
    seed: fc.nat(),
  })
  .chain(({ method, good, id, jsonrpc }) => {
    const params = typeof method === 'string' && good ? arbGoodParams(method) : arbBadParams;
    return params.map((p): Req => {
      const body: Record<string, unknown> = { method };
      if (jsonrpc !== undefined) body['jsonrpc'] = jsonrpc;
      if (id !== undefined) body['id'] = id;
      if (p !== undefined) body['params'] = p;
      return { body, goodParams: typeof method === 'string' && good };
    });
  });

const arbNotObject: fc.Arbitrary<Req> = fc.constantFrom<unknown>(1, 'status', null, true, [], [[]]).map((body) => ({ body, goodParams: false }));

interface Exchange {
  /** The JSON text sent (or raw text when `raw`). */
  readonly text: string;
  /** What was sent, parsed (undefined for text that is not JSON). */
  readonly requests: Req | readonly Req[] | undefined;
  readonly authorized: boolean;
}

const arbExchange: fc.Arbitrary<Exchange> = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.oneof({ weight: 9, arbitrary: arbRequest }, { weight: 1, arbitrary: arbNotObject }) },
      { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 9, arbitrary: arbRequest }, { weight: 1, arbitrary: arbNotObject }), { minLength: 0, maxLength: MAX_BATCH + 3 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('', '{', '[1,', '{"jsonrpc":"2.0","id":1e400,"method":"status"}', '\u0000', '['.repeat(50_000) + ']'.repeat(50_000), 'null', '"x"', '{"__proto__":{"jsonrpc":"2.0"},"method":"status","id":1}'),
      },
    ),
    fc.boolean(),
  )
  .map(([what, authorized]): Exchange => {
    if (typeof what === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(what);
      } catch {
        return { text: what, requests: undefined, authorized };
      }
      const asReq = (body: unknown): Req => ({ body, goodParams: false });
      return { text: what, requests: Array.isArray(parsed) ? parsed.map(asReq) : asReq(parsed), authorized };
    }
    // The model judges what went over the wire (JSON turns -0 into 0, drops undefined), so
    // the requests are read back from the text.
    const requests = what as Req | Req[];
    const text = JSON.stringify(Array.isArray(requests) ? requests.map((r) => r.body) : requests.body);
    const wire = JSON.parse(text) as unknown;
    const good = (i: number): boolean => (Array.isArray(requests) ? (requests[i]?.goodParams ?? false) : requests.goodParams);
    // A "single" request whose body is an array is a batch on the wire.
    const read = Array.isArray(wire) ? wire.map((body, i): Req => ({ body, goodParams: good(i) })) : { body: wire, goodParams: good(0) };
    return { text, requests: read, authorized };
  });

// ---------------------------------------------------------------------------------------
// The model

type Expectation =
  /** A JSON-RPC error with exactly this code, and the id given. */
  | { readonly answered: true; readonly id: unknown; readonly codes: readonly number[]; readonly resultAllowed: boolean }
  | { readonly answered: false };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** What the spec (and our documented codes) say one request must get. */
function expectFor(req: Req, authorized: boolean): Expectation {
  const r = req.body;
  const invalid = (id: unknown): Expectation => ({ answered: true, id, codes: [RPC_ERROR.invalidRequest], resultAllowed: false });
  if (!isPlainObject(r)) return invalid(null);
  const hasId = Object.hasOwn(r, 'id');
  if (hasId && !isId(r['id'])) return invalid(null);
  const id = hasId ? r['id'] : null;
  if (r['jsonrpc'] !== '2.0') return invalid(id);
  const method = r['method'];
  if (typeof method !== 'string') return invalid(id);
  if (r['params'] !== undefined && typeof r['params'] !== 'object') return invalid(id);
  if (!hasId) return { answered: false };
  if (!NAMES.includes(method)) return { answered: true, id, codes: [RPC_ERROR.methodNotFound], resultAllowed: false };
  if (WRITE_METHODS.has(method) && !authorized) return { answered: true, id, codes: [RPC_ERROR.unauthorized], resultAllowed: false };
  // Past the request checks: a result, a param refusal, or the method's own documented errors;
  // never an internal error (a handler that throws on input is a bug).
  const own = [RPC_ERROR.txRejected, RPC_ERROR.mempoolFull, RPC_ERROR.commitTimeout, RPC_ERROR.notFound];
  const paramChecks = !req.goodParams || method === 'blockchain' || method === 'tx_search';
  return { answered: true, id, codes: paramChecks ? [...own, RPC_ERROR.invalidParams] : own, resultAllowed: true };
}

function checkResponse(response: unknown, expectation: Expectation & { answered: true }, where: string): void {
  expect(isPlainObject(response), `${where}: a response object`).toBe(true);
  const r = response as Record<string, unknown>;
  expect(Object.keys(r).every((k) => ['jsonrpc', 'id', 'result', 'error'].includes(k)), `${where}: keys ${Object.keys(r).join(',')}`).toBe(true);
  expect(r['jsonrpc']).toBe('2.0');
  expect(r['id'], `${where}: id`).toEqual(expectation.id);
  expect('result' in r !== 'error' in r, `${where}: exactly one of result and error`).toBe(true);
  if ('error' in r) {
    const e = r['error'] as Record<string, unknown>;
    expect(Number.isInteger(e['code']), `${where}: integer code`).toBe(true);
    expect(typeof e['message']).toBe('string');
    expect((e['message'] as string).length, `${where}: a bounded message`).toBeLessThan(1_000);
    expect(expectation.codes, `${where}: code ${String(e['code'])} (${String(e['message'])})`).toContain(e['code']);
  } else {
    expect(expectation.resultAllowed, `${where}: a result where the model wants an error ${expectation.codes.join('/')}`).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------

function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('the JSON-RPC endpoint under generated traffic', () => {
  let server: RpcServer;
  let node: FakeNode;
  let url: string;

  beforeAll(async () => {
    node = new FakeNode(tn);
    // Three blocks, so heights and hashes sometimes name something that exists.
    for (let nonce = 0n; nonce < 3n; nonce++) node.commit([tn.signTransfer(0, 1, 1n, nonce)]);
    await node.settled();
    server = new RpcServer({ port: 0, maxBatch: MAX_BATCH, requestTimeoutMs: 2_000, authToken: TOKEN }, node);
    await server.start();
    url = server.url!;
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function exchange(x: Exchange): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (x.authorized) headers['authorization'] = `Bearer ${TOKEN}`;
    const res = await fetch(url, { method: 'POST', headers, body: x.text, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const where = `request ${x.text.slice(0, 300)}`;
    if (x.requests === undefined) {
      expect(res.status, where).toBe(200);
      checkResponse(JSON.parse(text), { answered: true, id: null, codes: [RPC_ERROR.parseError], resultAllowed: false }, where);
      return;
    }
    if (!Array.isArray(x.requests)) {
      const expectation = expectFor(x.requests as Req, x.authorized);
      if (!expectation.answered) {
        expect(res.status, where).toBe(204);
        expect(text).toBe('');
        return;
      }
      expect(res.status, where).toBe(200);
      checkResponse(JSON.parse(text), expectation, where);
      return;
    }
    const batch = x.requests as readonly Req[];
    if (batch.length === 0 || batch.length > MAX_BATCH) {
      expect(res.status, where).toBe(200);
      checkResponse(JSON.parse(text), { answered: true, id: null, codes: [RPC_ERROR.invalidRequest], resultAllowed: false }, where);
      return;
    }
    const expected = batch.map((r) => expectFor(r, x.authorized)).filter((e): e is Expectation & { answered: true } => e.answered);
    if (expected.length === 0) {
      expect(res.status, where).toBe(204);
      return;
    }
    expect(res.status, where).toBe(200);
    const answers = JSON.parse(text) as unknown;
    expect(Array.isArray(answers), `${where}: a batch answer is an array`).toBe(true);
    expect((answers as unknown[]).length, `${where}: one answer per request with an id`).toBe(expected.length);
    (answers as unknown[]).forEach((a, i) => checkResponse(a, expected[i]!, `${where} [${i}]`));
  }

  async function stillServes(): Promise<void> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":"alive","method":"status"}' });
    const body = (await res.json()) as { id: string; result: { chain_id: string } };
    expect(body.id).toBe('alive');
    expect(body.result.chain_id).toBe(tn.chainId);
  }

  it('answers every request as JSON-RPC 2.0 with the predicted code class, and keeps serving', async () => {
    await fc.assert(fc.asyncProperty(arbExchange, exchange), { numRuns: 300 });
    await stillServes();
  }, 120_000);

  it('keeps its memory flat across a long run of hostile traffic', async () => {
    const gc = collector();
    const samples = fc.sample(arbExchange, { numRuns: 200, seed: 42 });
    // One pass to warm up (JIT, caches, the mempool filling), then measure a second.
    for (const x of samples) await exchange(x);
    gc();
    const before = process.memoryUsage();
    for (let round = 0; round < 2; round++) for (const x of samples) await exchange(x);
    gc();
    const after = process.memoryUsage();
    await stillServes();
    const grew = after.heapUsed - before.heapUsed;
    expect(grew, `heap grew ${(grew / 1024 / 1024).toFixed(1)} MiB over 400 exchanges`).toBeLessThan(16 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
