import { createServer } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { NetError } from '../../src/net/errors.js';
import { encodeFrame } from '../../src/net/framing.js';
import { CONSENSUS_PROTOCOL, SYNC_PROTOCOL, TX_PROTOCOL, type P2PNetwork } from '../../src/net/host.js';
import { peerIdOfValidator } from '../../src/net/identity.js';
import {
  addressOf,
  FAST_REDIAL,
  freePorts,
  Inbox,
  Registry,
  sleep,
  testKey,
  text,
  validatorsFor,
  waitFor,
} from './cluster.js';

const registry = new Registry();
afterEach(async () => {
  await registry.stopAll();
});

/** Starts `n` validators on fresh ports and waits until all of them are connected. */
async function cluster(label: string, n: number, extra: Partial<Parameters<Registry['host']>[0]> = {}) {
  const ports = await freePorts(n);
  const { keys, validators } = validatorsFor(label, ports);
  const hosts: P2PNetwork[] = [];
  for (let i = 0; i < n; i++) {
    hosts.push(
      await registry.host({ seed: keys[i]!.seed, listen: addressOf(ports[i]!), validators, self: i, redialBackoff: FAST_REDIAL, ...extra }),
    );
  }
  const inboxes = hosts.map((h) => new Inbox(h));
  await Promise.all(hosts.map((h) => h.start()));
  await waitFor(() => hosts.every((h) => h.connectedPeers().length === n - 1), 'full mesh');
  return { ports, keys, validators, hosts, inboxes };
}

const texts = (list: readonly { from: number; text: string }[]) => list.map((r) => `${r.from}:${r.text}`).sort();

describe('P2PNetwork', () => {
  it('connects 4 validators; direct sends and broadcasts reach the right peers in order', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const { hosts, inboxes } = await cluster('mesh', 4, { logger });
    for (const [i, host] of hosts.entries()) {
      expect(host.connectedPeers()).toEqual([0, 1, 2, 3].filter((j) => j !== i));
      expect(host.listenAddresses()[0]).toContain(`/p2p/${host.peerId}`);
    }
    hosts.forEach((h, i) => h.broadcastConsensus(text(`b${i}`)));
    hosts.forEach((h, i) => h.sendConsensus((i + 1) % 4, text(`d${i}`)));
    // Many frames one way: they arrive complete and in order.
    for (let k = 0; k < 200; k++) hosts[2]!.sendConsensus(3, text(`seq${k}`));
    await waitFor(() => inboxes.every((box, i) => box.consensus.length >= (i === 3 ? 204 : 4)), 'all consensus frames');
    await sleep(50);
    for (let i = 0; i < 4; i++) {
      const expected = [0, 1, 2, 3].filter((j) => j !== i).map((j) => `${j}:b${j}`);
      expected.push(`${(i + 3) % 4}:d${(i + 3) % 4}`);
      const got = texts(inboxes[i]!.consensus.filter((r) => !r.text.startsWith('seq')));
      expect(got).toEqual(expected.sort());
    }
    const seq = inboxes[3]!.consensus.filter((r) => r.text.startsWith('seq'));
    expect(seq.map((r) => r.text)).toEqual(Array.from({ length: 200 }, (_, k) => `seq${k}`));
    expect(seq.every((r) => r.from === 2)).toBe(true);
    // Every connection got the cheaper noise frame decoder (src/net/noise.ts) and every stream
    // the half-window yamux credit (src/net/yamux.ts): an upgrade of either library that
    // changes its shape shows up here, not only as a slower node.
    expect(warnings.filter((w) => w.includes('noise') || w.includes('yamux'))).toEqual([]);
  });

  it('streams many receive windows one way without stalling (window credit comes at half a window)', async () => {
    const { hosts, inboxes } = await cluster('window', 2);
    const frame = (k: number) => text(`${k}:`.padEnd(30 * 1024, 'x'));
    const total = 200; // ~6 MiB: more than 20 of yamux's initial 256 KiB windows
    for (let k = 0; k < total; k++) hosts[0]!.sendConsensus(1, frame(k));
    await waitFor(() => inboxes[1]!.consensus.length === total, 'every frame', 10_000);
    expect(inboxes[1]!.consensus.map((r) => r.text.slice(0, r.text.indexOf(':')))).toEqual(Array.from({ length: total }, (_, k) => String(k)));
    expect(hosts[0]!.peerStats(1)!.consensus!.droppedFrames).toBe(0);
  });

  it('gossips txs to connected peers except the one named, including observers', async () => {
    const ports = await freePorts(4);
    const { keys, validators } = validatorsFor('gossip', ports.slice(0, 3));
    const observerKey = testKey('gossip-observer', 0);
    const observers = [observerKey.publicKey];
    const hosts: P2PNetwork[] = [];
    for (let i = 0; i < 3; i++) {
      hosts.push(await registry.host({ seed: keys[i]!.seed, listen: addressOf(ports[i]!), validators, observers, self: i, redialBackoff: FAST_REDIAL }));
    }
    const observer = await registry.host({ seed: observerKey.seed, listen: addressOf(ports[3]!), validators, observers, self: 3, redialBackoff: FAST_REDIAL });
    const all = [...hosts, observer];
    const inboxes = all.map((h) => new Inbox(h));
    await Promise.all(all.map((h) => h.start()));
    await waitFor(() => hosts.every((h) => h.connectedPeers().length === 3) && observer.connectedPeers().length === 3, 'mesh with observer');

    hosts[0]!.broadcastTx(text('tx-a'));
    hosts[1]!.broadcastTx(text('tx-b'), 2); // not back to 2
    observer.broadcastTx(text('tx-o'));
    await waitFor(() => inboxes[0]!.tx.length === 2 && inboxes[1]!.tx.length === 2 && inboxes[2]!.tx.length === 2 && inboxes[3]!.tx.length === 2, 'tx gossip');
    await sleep(50);
    expect(texts(inboxes[0]!.tx)).toEqual(['1:tx-b', '3:tx-o']);
    expect(texts(inboxes[1]!.tx)).toEqual(['0:tx-a', '3:tx-o']);
    expect(texts(inboxes[2]!.tx)).toEqual(['0:tx-a', '3:tx-o']);
    expect(texts(inboxes[3]!.tx)).toEqual(['0:tx-a', '1:tx-b']);
    // To one peer only (how a peer that just connected gets the pending txs it missed).
    hosts[2]!.sendTx(3, text('tx-direct'));
    await waitFor(() => inboxes[3]!.tx.length === 3, 'direct tx');
    await sleep(50);
    expect(texts(inboxes[3]!.tx)).toEqual(['0:tx-a', '1:tx-b', '2:tx-direct']);
    expect([0, 1, 2].map((i) => inboxes[i]!.tx.length)).toEqual([2, 2, 2]);
    expect(() => hosts[2]!.sendTx(9, text('x'))).toThrow(NetError);
    // Observers take no part in consensus, either way.
    expect(() => observer.sendConsensus(0, text('x'))).toThrow(NetError);
    expect(() => hosts[0]!.sendConsensus(3, text('x'))).toThrow(NetError);
    hosts[0]!.broadcastConsensus(text('only-validators'));
    await waitFor(() => inboxes[1]!.consensus.length === 1 && inboxes[2]!.consensus.length === 1, 'consensus broadcast');
    expect(inboxes[3]!.consensus).toHaveLength(0);
  });

  it('refuses a key outside genesis: its dials fail and nothing it sends is delivered', async () => {
    const { validators, hosts, inboxes } = await cluster('gate', 3);
    // A full P2PNetwork that believes it is a validator, with its own key added.
    const outsiderKey = testKey('gate-outsider', 0);
    const [outsiderPort] = await freePorts(1);
    const outsider = await registry.host({
      seed: outsiderKey.seed,
      listen: addressOf(outsiderPort!),
      validators: [...validators, { publicKey: outsiderKey.publicKey, p2p: addressOf(outsiderPort!) }],
      self: 3,
      redialBackoff: FAST_REDIAL,
    });
    await outsider.start();
    outsider.broadcastConsensus(text('evil'));
    // And a bare libp2p node with another foreign key, dialing directly.
    const raw = await registry.raw(testKey('gate-raw', 0).seed);
    const target = multiaddr(`${validators[0]!.p2p}/p2p/${peerIdOfValidator(validators[0]!.publicKey).toString()}`);
    // Noise lets the dialer finish its side of the handshake (and agree on the muxer inside
    // it) before the listener has judged the dialer's identity, so a dial may resolve for
    // an instant; the listener's gater then closes it before any protocol can run.
    const connection = await raw.dial(target).catch(() => undefined);
    await waitFor(() => connection === undefined || connection.status !== 'open', 'the refused connection to close');
    const opened = await raw.dialProtocol(target, CONSENSUS_PROTOCOL).then(
      () => 'stream opened',
      () => 'refused',
    );
    expect(opened).toBe('refused');
    await sleep(600); // several of the outsider's redials
    // Its queued frame never found a stream to any validator.
    for (const peer of [0, 1, 2]) {
      expect(outsider.peerStats(peer)?.consensus?.sentFrames).toBe(0);
      expect(outsider.peerStats(peer)?.consensus?.queuedFrames).toBe(1);
    }
    for (const host of hosts) expect(host.connectedPeers()).toHaveLength(2);
    for (const box of inboxes) expect(box.consensus).toHaveLength(0);
    expect(raw.getConnections()).toHaveLength(0);
  });

  it('serves sync requests, bounds the response, and times out on a silent server', async () => {
    const { hosts } = await cluster('sync', 3, { syncMaxItems: 5 });
    const requests: { from: number; fromHeight: number; toHeight: number }[] = [];
    const big = (h: number) => new Uint8Array(400 * 1024).fill(h % 251);
    hosts[1]!.serveSync(async (from, req) => {
      requests.push({ from, ...req });
      // Items larger than the muxer's flow-control window exercise 'drain' on the server.
      if (req.fromHeight >= 1000) return [big(req.fromHeight), big(req.fromHeight + 1)];
      const items: Uint8Array[] = [];
      for (let h = req.fromHeight; h <= req.toHeight; h++) items.push(text(`block-${h}`));
      return items;
    });
    const got = await hosts[0]!.requestSync(1, { fromHeight: 3, toHeight: 4 });
    expect(got.map((b) => new TextDecoder().decode(b))).toEqual(['block-3', 'block-4']);
    expect(requests).toEqual([{ from: 0, fromHeight: 3, toHeight: 4 }]);
    // The server answers at most syncMaxItems; the client asks again from there.
    const capped = await hosts[0]!.requestSync(1, { fromHeight: 10, toHeight: 100 });
    expect(capped.map((b) => new TextDecoder().decode(b))).toEqual(['block-10', 'block-11', 'block-12', 'block-13', 'block-14']);

    const large = await hosts[0]!.requestSync(1, { fromHeight: 1000, toHeight: 1001 });
    expect(large.map((b) => b.length)).toEqual([400 * 1024, 400 * 1024]);
    expect(large[0]!.every((x) => x === 1000 % 251) && large[1]!.every((x) => x === 1001 % 251)).toBe(true);

    // A server that never answers: the request times out.
    hosts[2]!.serveSync(() => new Promise<Uint8Array[]>(() => undefined));
    const started = Date.now();
    const slow = hosts[0]!.requestSync(2, { fromHeight: 1, toHeight: 1 }, { timeoutMs: 300 });
    await expect(slow).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // A caller's abort wins too.
    const controller = new AbortController();
    const aborted = hosts[0]!.requestSync(2, { fromHeight: 1, toHeight: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    // A peer with no sync server refuses at once.
    await expect(hosts[1]!.requestSync(0, { fromHeight: 1, toHeight: 1 })).rejects.toMatchObject({ code: 'sync-failed' });
    await expect(hosts[0]!.requestSync(1, { fromHeight: 5, toHeight: 4 })).rejects.toMatchObject({ code: 'bad-request' });
    // Everyone still works afterwards.
    expect(await hosts[0]!.requestSync(1, { fromHeight: 7, toHeight: 7 })).toHaveLength(1);
  });

  it('drops a stream carrying an oversize frame or a bad sync exchange, penalizes the peer, and keeps working', async () => {
    const ports = await freePorts(3);
    const { keys, validators } = validatorsFor('oversize', ports);
    const maxFrameBytes = 1024;
    const hosts = [
      await registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 0, maxFrameBytes, maxTxBytes: 100, maxQueueBytes: 1 << 20, syncMaxItems: 4, redialBackoff: FAST_REDIAL }),
      await registry.host({ seed: keys[1]!.seed, listen: addressOf(ports[1]!), validators, self: 1, maxFrameBytes, maxQueueBytes: 1 << 20, redialBackoff: FAST_REDIAL }),
    ];
    const inboxes = hosts.map((h) => new Inbox(h));
    await Promise.all(hosts.map((h) => h.start()));
    // Validator 2 is a bare libp2p node holding validator 2's key: admitted, but it misbehaves.
    const rogue = await registry.raw(keys[2]!.seed);
    const target = multiaddr(`${addressOf(ports[0]!)}/p2p/${hosts[0]!.peerId}`);
    const bad = await rogue.dialProtocol(target, CONSENSUS_PROTOCOL);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, maxFrameBytes + 1, false);
    bad.send(header);
    await waitFor(() => bad.status !== 'open', 'the oversize stream to be dropped');
    expect(hosts[0]!.peerStats(2)?.penalties).toBe(1);
    // The same peer, on a new stream, is heard again; the honest peers never noticed.
    const good = await rogue.dialProtocol(target, CONSENSUS_PROTOCOL);
    good.send(encodeFrame(text('sorry')));
    hosts[1]!.sendConsensus(0, text('still-here'));
    await waitFor(() => inboxes[0]!.consensus.length === 2, 'frames after the drop');
    expect(texts(inboxes[0]!.consensus)).toEqual(['1:still-here', '2:sorry']);

    // A garbage sync request is refused and counted.
    hosts[0]!.serveSync(async () => [text('never sent')]);
    const garbage = await rogue.dialProtocol(target, SYNC_PROTOCOL);
    garbage.send(encodeFrame(text('not sixteen bytes')));
    await waitFor(() => garbage.status !== 'open', 'the bad sync request to be refused');
    expect(hosts[0]!.peerStats(2)?.penalties).toBe(2);
    // A sync answer over the item bound is rejected and counted.
    await rogue.handle(SYNC_PROTOCOL, (stream) => {
      for (let k = 0; k < 5; k++) stream.send(encodeFrame(text(`item${k}`)));
      void stream.close();
    });
    await expect(hosts[0]!.requestSync(2, { fromHeight: 0, toHeight: 9 })).rejects.toMatchObject({ code: 'bad-response' });
    expect(hosts[0]!.peerStats(2)?.penalties).toBe(3);
    // Tx streams have their own, much smaller, frame bound.
    const bigTx = await rogue.dialProtocol(target, TX_PROTOCOL);
    bigTx.send(encodeFrame(new Uint8Array(101)));
    await waitFor(() => bigTx.status !== 'open', 'the oversize tx stream to be dropped');
    expect(hosts[0]!.peerStats(2)?.penalties).toBe(4);
    expect(inboxes[0]!.tx).toHaveLength(0);
    expect(hosts[0]!.connectedPeers()).toEqual([1, 2]);
  });

  it('redials a peer that stops and restarts on the same port; frames queued meanwhile arrive', async () => {
    const { ports, keys, validators, hosts, inboxes } = await cluster('restart', 3);
    await hosts[1]!.stop();
    await waitFor(() => !hosts[0]!.connectedPeers().includes(1) && !hosts[2]!.connectedPeers().includes(1), 'disconnect seen');
    expect(inboxes[0]!.disconnected).toContain(1);
    hosts[0]!.sendConsensus(1, text('while-down'));
    await sleep(300); // a few failed redials
    const reborn = await registry.host({ seed: keys[1]!.seed, listen: addressOf(ports[1]!), validators, self: 1, redialBackoff: FAST_REDIAL });
    const rebornInbox = new Inbox(reborn);
    await reborn.start();
    await waitFor(() => reborn.connectedPeers().length === 2 && hosts[0]!.connectedPeers().includes(1), 'reconnect');
    hosts[0]!.sendConsensus(1, text('after'));
    reborn.broadcastConsensus(text('back'));
    await waitFor(() => rebornInbox.consensus.length === 2 && inboxes[0]!.consensus.length === 1 && inboxes[2]!.consensus.length === 1, 'delivery after restart');
    expect(rebornInbox.consensus.map((r) => `${r.from}:${r.text}`)).toEqual(['0:while-down', '0:after']);
    expect(texts(inboxes[2]!.consensus)).toEqual(['1:back']);
  });

  it('stops queueing for a peer gone longer than disconnectedQueueMs and drops what waited; sends resume when it is back', async () => {
    const { ports, keys, validators, hosts, inboxes } = await cluster('away', 3, { disconnectedQueueMs: 400 });
    await hosts[1]!.stop();
    await waitFor(() => !hosts[0]!.connectedPeers().includes(1), 'disconnect seen');
    hosts[0]!.sendConsensus(1, text('soon-stale'));
    expect(hosts[0]!.peerStats(1)!.consensus!.queuedFrames).toBe(1);
    await sleep(500);
    hosts[0]!.sendConsensus(1, text('stale'));
    hosts[0]!.broadcastConsensus(text('to-all'));
    const away = hosts[0]!.peerStats(1)!.consensus!;
    expect(away.queuedFrames).toBe(0);
    expect(away.droppedFrames).toBe(3);
    expect(away.queuedBytes).toBe(0);
    const reborn = await registry.host({ seed: keys[1]!.seed, listen: addressOf(ports[1]!), validators, self: 1, redialBackoff: FAST_REDIAL });
    const rebornInbox = new Inbox(reborn);
    await reborn.start();
    await waitFor(() => hosts[0]!.connectedPeers().includes(1), 'reconnect');
    hosts[0]!.sendConsensus(1, text('fresh'));
    await waitFor(() => rebornInbox.consensus.length >= 1 && inboxes[2]!.consensus.length === 1, 'delivery after return');
    await sleep(100);
    expect(texts(rebornInbox.consensus)).toEqual(['0:fresh']);
    expect(texts(inboxes[2]!.consensus)).toEqual(['0:to-all']); // a connected peer was never held back
  });

  it('reaches a late validator by redial alone (it cannot dial us)', async () => {
    const ports = await freePorts(3);
    const { keys, validators } = validatorsFor('late', ports.slice(0, 2));
    const early = await registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 0, redialBackoff: FAST_REDIAL });
    await early.start();
    await sleep(400); // its dials to the absent validator fail and back off
    // The late node's genesis points validator 0 at a dead port: only 0's redial can connect.
    const wrongBook = [{ ...validators[0]!, p2p: addressOf(ports[2]!) }, validators[1]!];
    const late = await registry.host({ seed: keys[1]!.seed, listen: addressOf(ports[1]!), validators: wrongBook, self: 1, redialBackoff: FAST_REDIAL });
    const lateInbox = new Inbox(late);
    await late.start();
    await waitFor(() => early.connectedPeers().includes(1), 'redial reaches the late validator', 3_000);
    early.sendConsensus(1, text('found-you'));
    await waitFor(() => lateInbox.consensus.length === 1, 'delivery');
    expect(lateInbox.consensus[0]).toEqual({ from: 0, text: 'found-you' });
  });

  it('bounds the send queue when the peer stops reading, then drains when it reads again', async () => {
    const ports = await freePorts(2);
    const { keys, validators } = validatorsFor('backpressure', ports);
    const maxQueueBytes = 1 << 20;
    const sender = await registry.host({
      seed: keys[0]!.seed,
      listen: addressOf(ports[0]!),
      validators,
      self: 0,
      maxFrameBytes: 64 * 1024,
      maxQueueBytes,
      redialBackoff: FAST_REDIAL,
    });
    await sender.start();
    // Validator 1 is a bare node that accepts the consensus stream and does not read it.
    const sink = await registry.raw(keys[1]!.seed);
    const paused: { stream: import('@libp2p/interface').Stream; bytes: number }[] = [];
    await sink.handle(CONSENSUS_PROTOCOL, (stream) => {
      stream.pause();
      const entry = { stream, bytes: 0 };
      paused.push(entry);
      stream.addEventListener('message', (evt) => {
        entry.bytes += evt.data.byteLength;
      });
    });
    await sink.dial(multiaddr(`${addressOf(ports[0]!)}/p2p/${sender.peerId}`));
    await waitFor(() => sender.connectedPeers().includes(1), 'sink connected');

    const frame = new Uint8Array(32 * 1024).fill(7);
    const total = 300; // ~9.6 MiB offered, far beyond the 1 MiB queue
    for (let k = 0; k < total; k++) sender.sendConsensus(1, frame);
    await sleep(300);
    const stats = sender.peerStats(1)!.consensus!;
    expect(stats.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    expect(stats.droppedFrames).toBeGreaterThan(0);
    expect(stats.sentFrames + stats.queuedFrames + stats.droppedFrames).toBe(total);
    // What left our queue is only what the stream's flow-control window took.
    expect(stats.sentFrames * frame.length).toBeLessThan(2 << 20);
    // Memory stays put while the peer keeps not reading.
    for (let k = 0; k < total; k++) sender.sendConsensus(1, frame);
    expect(sender.peerStats(1)!.consensus!.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);

    // The peer reads again: everything queued drains through 'drain' events.
    expect(paused).toHaveLength(1);
    paused[0]!.stream.resume();
    await waitFor(() => sender.peerStats(1)!.consensus!.queuedBytes === 0, 'queue drained', 5_000);
    const after = sender.peerStats(1)!.consensus!;
    await waitFor(() => paused[0]!.bytes === after.sentFrames * (frame.length + 4), 'all sent bytes received', 5_000);
  });

  it('bans a peer past the penalty threshold, then lets it back', async () => {
    const { hosts, inboxes } = await cluster('ban', 2, { penalties: { threshold: 3, banMs: 700 } });
    hosts[0]!.penalize(1, 'bad signature');
    hosts[0]!.penalize(1, 'bad signature');
    expect(hosts[0]!.connectedPeers()).toEqual([1]);
    hosts[0]!.penalize(1, 'bad signature');
    expect(hosts[0]!.peerStats(1)?.banned).toBe(true);
    await waitFor(() => hosts[0]!.connectedPeers().length === 0 && hosts[1]!.connectedPeers().length === 0, 'ban disconnect');
    // During the ban the banned side keeps redialing and is refused.
    await sleep(300);
    expect(hosts[0]!.connectedPeers()).toEqual([]);
    await waitFor(() => hosts[0]!.connectedPeers().includes(1), 'reconnect after the ban', 3_000);
    hosts[1]!.sendConsensus(0, text('reformed'));
    await waitFor(() => inboxes[0]!.consensus.length === 1, 'delivery after the ban');
    // Penalizing an unknown index is ignored, never thrown.
    expect(() => hosts[0]!.penalize(99, 'x')).not.toThrow();
  });

  it('rejects inconsistent options and local misuse with typed errors', async () => {
    const ports = await freePorts(2);
    const { keys, validators } = validatorsFor('options', ports);
    await expect(registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 1 })).rejects.toMatchObject({ code: 'bad-options' });
    await expect(registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 5 })).rejects.toMatchObject({ code: 'bad-options' });
    await expect(
      registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators: [validators[0]!, validators[0]!], self: 0 }),
    ).rejects.toMatchObject({ code: 'bad-options' });
    const wrongId = `${addressOf(ports[1]!)}/p2p/${peerIdOfValidator(keys[0]!.publicKey).toString()}`;
    await expect(
      registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators: [validators[0]!, { ...validators[1]!, p2p: wrongId }], self: 0 }),
    ).rejects.toMatchObject({ code: 'bad-options' });
    await expect(registry.host({ seed: keys[0]!.seed, listen: '/ip4/127.0.0.1/tcp/x', validators, self: 0 })).rejects.toMatchObject({ code: 'bad-options' });
    await expect(registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 0, maxQueueBytes: 10, maxFrameBytes: 100 })).rejects.toMatchObject({
      code: 'bad-options',
    });
    // A port someone else holds: start fails with a typed error and leaves nothing running.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(ports[1]!, '127.0.0.1', () => resolve()));
    try {
      const blocked = await registry.host({ seed: keys[1]!.seed, listen: addressOf(ports[1]!), validators, self: 1 });
      await expect(blocked.start()).rejects.toMatchObject({ code: 'listen-failed' });
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    const host = await registry.host({ seed: keys[0]!.seed, listen: addressOf(ports[0]!), validators, self: 0, maxFrameBytes: 100, maxTxBytes: 50, maxQueueBytes: 1000 });
    expect(() => host.sendConsensus(1, new Uint8Array(101))).toThrow(expect.objectContaining({ code: 'frame-too-large' }));
    expect(() => host.broadcastTx(new Uint8Array(51))).toThrow(expect.objectContaining({ code: 'frame-too-large' }));
    expect(() => host.broadcastTx(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'empty-message' }));
    expect(() => host.sendConsensus(0, text('self'))).toThrow(expect.objectContaining({ code: 'unknown-peer' }));
    await expect(host.requestSync(1, { fromHeight: 0, toHeight: 1 })).rejects.toMatchObject({ code: 'not-started' });
  });
});
