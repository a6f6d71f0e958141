import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { utf8 } from '../../src/crypto/bytes.js';
import { sign } from '../../src/crypto/domain.js';
import { NodeMetrics, type NodeProbe } from '../../src/node/metrics.js';
import { RpcServer } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { parseExposition, sampleValue, type Family } from '../helpers/prometheus.js';
import { FakeNode } from '../rpc/fake-node.js';

const tn = makeTestnet({ accounts: 2 });

const EXPECTED: Record<string, string> = {
  ledger_height: 'gauge',
  ledger_view: 'gauge',
  ledger_view_changes_total: 'counter',
  ledger_blocks_committed_total: 'counter',
  ledger_txs_committed_total: 'counter',
  ledger_commit_latency_seconds: 'histogram',
  ledger_mempool_txs: 'gauge',
  ledger_mempool_bytes: 'gauge',
  ledger_peers: 'gauge',
  ledger_gossip_queue_frames: 'gauge',
  ledger_execution_queue_blocks: 'gauge',
  ledger_wal_write_seconds: 'histogram',
  ledger_store_write_seconds: 'histogram',
  ledger_signature_verifications_total: 'counter',
  ledger_rpc_requests_total: 'counter',
  ledger_websocket_connections: 'gauge',
  ledger_websocket_subscriptions: 'gauge',
  ledger_websocket_slow_consumers_total: 'counter',
};

/** A probe over plain fields the test sets. */
function fakeProbe() {
  const state = { height: 0, view: 0, txs: 0, bytes: 0, peers: 0, gossip: 0, executions: 0, connections: 0, subscriptions: 0 };
  const probe: NodeProbe = {
    height: () => state.height,
    view: () => state.view,
    mempool: () => ({ txs: state.txs, bytes: state.bytes }),
    peers: () => state.peers,
    backlog: () => ({ gossip: state.gossip, executions: state.executions }),
    websocket: () => ({ connections: state.connections, subscriptions: state.subscriptions }),
  };
  return { state, probe };
}

/** A clock the test moves. */
function fakeClock() {
  const clock = { t: 1_000 };
  return { clock, now: () => clock.t };
}

async function scrape(metrics: NodeMetrics): Promise<Map<string, Family>> {
  return parseExposition(await metrics.render());
}

describe('NodeMetrics: exposition', () => {
  it('renders every metric with its type and help, in valid Prometheus text format', async () => {
    const families = await scrape(new NodeMetrics({ probe: fakeProbe().probe }));
    for (const [name, type] of Object.entries(EXPECTED)) {
      expect(families.get(name)?.type, name).toBe(type);
      expect(families.get(name)?.help, name).not.toBe('');
    }
  });

  it("matches prom-client's own view of the registry, sample by sample", async () => {
    const { now, clock } = fakeClock();
    const metrics = new NodeMetrics({ probe: fakeProbe().probe, now });
    metrics.proposalSeen(1);
    clock.t += 420;
    metrics.committed(1, 7);
    metrics.rpcCall('http', 'status', 0);
    metrics.rpcCall('ws', 'broadcast_tx_sync', -32010);
    metrics.verified('tx', true);
    metrics.verified('commit', false);
    const families = await scrape(metrics);
    let compared = 0;
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      for (const v of metric.values) {
        const name = (v as { metricName?: string }).metricName ?? metric.name;
        const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, x === Infinity ? '+Inf' : String(x)]));
        expect(sampleValue(families, name, labels), `${name} ${JSON.stringify(labels)}`).toBe(v.value);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('the parser rejects what a scraper would', () => {
    expect(() => parseExposition('# TYPE a counter\na{x="1} 1\n')).toThrow(/line 2/);
    expect(() => parseExposition('a 1\nb 2\na 3\n')).toThrow(/contiguous/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf/);
    expect(() => parseExposition('a one\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE a countr\n')).toThrow(/bad type/);
  });

  it('keeps nodes in one process apart (a registry each)', async () => {
    const a = new NodeMetrics();
    const b = new NodeMetrics();
    a.committed(1, 3);
    a.committed(2, 4);
    b.committed(1, 1);
    expect(sampleValue(await scrape(a), 'ledger_txs_committed_total')).toBe(7);
    expect(sampleValue(await scrape(b), 'ledger_txs_committed_total')).toBe(1);
    expect(sampleValue(await scrape(b), 'ledger_blocks_committed_total')).toBe(1);
  });
});

describe('NodeMetrics: hooks', () => {
  it('reads gauges from the probe at scrape time, and survives a probe that throws', async () => {
    const { state, probe } = fakeProbe();
    const metrics = new NodeMetrics({ probe });
    Object.assign(state, { height: 12, view: 3, txs: 40, bytes: 9_000, peers: 2, gossip: 31, executions: 1, connections: 5, subscriptions: 8 });
    let families = await scrape(metrics);
    expect(sampleValue(families, 'ledger_height')).toBe(12);
    expect(sampleValue(families, 'ledger_view')).toBe(3);
    expect(sampleValue(families, 'ledger_mempool_txs')).toBe(40);
    expect(sampleValue(families, 'ledger_mempool_bytes')).toBe(9_000);
    expect(sampleValue(families, 'ledger_peers')).toBe(2);
    expect(sampleValue(families, 'ledger_gossip_queue_frames')).toBe(31);
    expect(sampleValue(families, 'ledger_execution_queue_blocks')).toBe(1);
    expect(sampleValue(families, 'ledger_websocket_connections')).toBe(5);
    expect(sampleValue(families, 'ledger_websocket_subscriptions')).toBe(8);

    const broken = new NodeMetrics({ probe: { ...probe, peers: () => { throw new Error('network not started'); } } });
    families = await scrape(broken);
    expect(sampleValue(families, 'ledger_peers')).toBe(0);
    expect(sampleValue(families, 'ledger_height')).toBe(12);
  });

  it('counts commits, txs and view changes', async () => {
    const metrics = new NodeMetrics();
    metrics.committed(1, 10);
    metrics.committed(2, 5);
    metrics.viewChanged();
    const families = await scrape(metrics);
    expect(sampleValue(families, 'ledger_blocks_committed_total')).toBe(2);
    expect(sampleValue(families, 'ledger_txs_committed_total')).toBe(15);
    expect(sampleValue(families, 'ledger_view_changes_total')).toBe(1);
  });

  it('measures commit latency from the first proposal seen for a height to its commit', async () => {
    const { clock, now } = fakeClock();
    const metrics = new NodeMetrics({ now });
    metrics.proposalSeen(1);
    clock.t += 50;
    metrics.proposalSeen(1); // a later proposal (say after a view change) does not restart the clock
    metrics.proposalSeen(2);
    clock.t += 250;
    metrics.committed(1, 1); // 300 ms
    clock.t += 100;
    metrics.committed(2, 1); // 350 ms
    metrics.committed(3, 1); // fetched by catch-up: no proposal here, not observed
    metrics.proposalSeen(2); // already committed: ignored
    clock.t += 10_000;
    metrics.committed(2, 0);
    const families = await scrape(metrics);
    expect(sampleValue(families, 'ledger_commit_latency_seconds_count')).toBe(2);
    expect(sampleValue(families, 'ledger_commit_latency_seconds_sum')).toBeCloseTo(0.65, 9);
    expect(sampleValue(families, 'ledger_commit_latency_seconds_bucket', { le: '0.25' })).toBe(0);
    expect(sampleValue(families, 'ledger_commit_latency_seconds_bucket', { le: '0.5' })).toBe(2);
  });

  it('times WAL and store writes, failed ones included, and passes results and errors through', async () => {
    const { clock, now } = fakeClock();
    const metrics = new NodeMetrics({ now });
    const result = await metrics.timeWal(async () => {
      clock.t += 3;
      return 42;
    });
    expect(result).toBe(42);
    await expect(
      metrics.timeStore(async () => {
        clock.t += 20;
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    const families = await scrape(metrics);
    expect(sampleValue(families, 'ledger_wal_write_seconds_count')).toBe(1);
    expect(sampleValue(families, 'ledger_wal_write_seconds_sum')).toBeCloseTo(0.003, 9);
    expect(sampleValue(families, 'ledger_wal_write_seconds_bucket', { le: '0.0025' })).toBe(0);
    expect(sampleValue(families, 'ledger_wal_write_seconds_bucket', { le: '0.005' })).toBe(1);
    expect(sampleValue(families, 'ledger_store_write_seconds_sum')).toBeCloseTo(0.02, 9);
  });

  it('counts signature verifications by kind and result through a wrapped verifier', async () => {
    const metrics = new NodeMetrics();
    const verifier = metrics.countingVerifier(tn.verifier);
    const key = tn.validatorKeys[0]!;
    const payload = utf8('vote');
    const signature = sign(key, 'prepare', tn.chainId, payload);
    expect(verifier.verify(key.publicKey, 'prepare', payload, signature)).toBe(true);
    expect(verifier.verify(key.publicKey, 'prepare', payload, signature)).toBe(true);
    expect(verifier.verify(key.publicKey, 'commit', payload, signature)).toBe(false);
    const families = await scrape(metrics);
    expect(sampleValue(families, 'ledger_signature_verifications_total', { kind: 'prepare', result: 'valid' })).toBe(2);
    expect(sampleValue(families, 'ledger_signature_verifications_total', { kind: 'commit', result: 'invalid' })).toBe(1);
    expect(sampleValue(families, 'ledger_signature_verifications_total', { kind: 'commit', result: 'valid' })).toBeUndefined();
    // Counted between scrapes and reported at the next one: the counter keeps growing.
    expect(verifier.verify(key.publicKey, 'prepare', payload, signature)).toBe(true);
    const again = await scrape(metrics);
    expect(sampleValue(again, 'ledger_signature_verifications_total', { kind: 'prepare', result: 'valid' })).toBe(3);
    expect(sampleValue(again, 'ledger_signature_verifications_total', { kind: 'commit', result: 'invalid' })).toBe(1);
  });
});

describe('NodeMetrics behind the RPC server', () => {
  const servers: RpcServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function start(withEndpoint = true) {
    const metrics = new NodeMetrics();
    const server = new RpcServer(
      { port: 0, observer: metrics, websocket: {}, events: { subscribeCommits: () => () => {} }, ...(withEndpoint ? { metrics } : {}) },
      new FakeNode(tn),
    );
    servers.push(server);
    await server.start();
    return { metrics, server, base: `http://127.0.0.1:${server.address!.port}` };
  }

  const post = (url: string, body: string): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('serves GET /metrics and counts JSON-RPC calls by transport, method and code', async () => {
    const { base } = await start();
    await post(base, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health' }));
    await post(base, JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'health' }, { jsonrpc: '2.0', method: 'status' }]));
    await post(base, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no_such_thing_1' }));
    await post(base, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no_such_thing_2' }));
    await post(base, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: '!' } }));
    await post(base, '{nope');
    await fetch(`${base}/elsewhere`, { method: 'POST' });

    const ws = new WebSocket(`${base.replace('http', 'ws')}/websocket`);
    await new Promise((resolve) => ws.once('open', resolve));
    const answered = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: { type: 'block' } } }));
    await answered;
    ws.close();

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(await res.text());
    const count = (labels: Record<string, string>) => sampleValue(families, 'ledger_rpc_requests_total', labels);
    expect(count({ transport: 'http', method: 'health', code: '0' })).toBe(2);
    expect(count({ transport: 'http', method: 'status', code: '0' })).toBe(1);
    // Unknown names share one label: a client cannot grow the metrics.
    expect(count({ transport: 'http', method: '(unknown)', code: '-32601' })).toBe(2);
    expect(count({ transport: 'http', method: 'broadcast_tx_sync', code: '-32602' })).toBe(1);
    expect(count({ transport: 'http', method: '(invalid)', code: '-32700' })).toBe(1);
    expect(count({ transport: 'http', method: '(invalid)', code: '-32600' })).toBe(1);
    expect(count({ transport: 'ws', method: 'subscribe', code: '0' })).toBe(1);
    expect(families.get('ledger_rpc_requests_total')?.samples.some((s) => s.labels['method']?.startsWith('no_such'))).toBe(false);

    expect((await post(`${base}/metrics`, '{}')).status).toBe(405);
  });

  it('has no /metrics when the endpoint is off', async () => {
    const { base } = await start(false);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});

describe('docs/metrics.md', () => {
  it('documents every ledger_ metric the node registers', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const names = (await new NodeMetrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('ledger_'));
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});
