/**
 * The node's libp2p host: TCP + Noise + Yamux, admission by genesis key, three protocols.
 *
 * - '/ledger/consensus/1' and '/ledger/tx/1': one long-lived one-way outbound stream per
 *   peer per protocol, fed by a bounded queue (channel.ts). Inbound streams are read
 *   frame by frame and handed to the handler with the sender's peer index.
 * - '/ledger/sync/1': one stream per request (sync.ts).
 *
 * Nothing here blocks the caller: sends are synchronous enqueues, and everything a peer
 * sends is bounded and can at worst get its stream dropped and the peer penalized.
 */
import '../polyfill.js';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { backoffDelay, DEFAULT_REDIAL_BACKOFF, type BackoffPolicy } from './backoff.js';
import { OutboundChannel } from './channel.js';
import { NetError } from './errors.js';
import { encodeFrame } from './framing.js';
import { admissionGater } from './gater.js';
import { libp2pPrivateKey } from './identity.js';
import { cheapNoise } from './noise.js';
import { quietYamux } from './yamux.js';
import {
  checkOptions,
  DEFAULTS,
  SILENT_LOGGER,
  type MessageHandler,
  type NetLogger,
  type P2PNetworkOptions,
  type PeerEventHandler,
  type PeerStats,
  type SyncRequestOptions,
  type SyncServer,
} from './options.js';
import { DEFAULT_PENALTY_POLICY, PenaltyBox } from './penalties.js';
import { readInbound } from './inbound.js';
import { DEFAULT_CONSENSUS_BUDGET, InboundBudget, type RateBudget } from './rate.js';
import { PeerTable, type PeerEntry } from './peers.js';
import {
  boundedPrefix,
  exchangeSync,
  isValidSyncRequest,
  readSyncRequest,
  SYNC_PROTOCOL,
  untilAborted,
  writeSyncResponse,
  type SyncLimits,
  type SyncRequest,
} from './sync.js';

export const CONSENSUS_PROTOCOL = '/ledger/consensus/1';
export const TX_PROTOCOL = '/ledger/tx/1';
export { SYNC_PROTOCOL };
export type { MessageHandler, NetLogger, P2PNetworkOptions, PeerEventHandler, PeerStats, SyncRequestOptions, SyncServer };

/** Streams per connection per protocol; one is normal, more covers a reopen in flight. */
const MAX_ONE_WAY_STREAMS = 2;
/**
 * Open connections one peer may hold to us. One is normal; simultaneous dials and a
 * reconnect while a dead connection awaits its ping timeout make two or three.
 */
export const MAX_CONNECTIONS_PER_PEER = 3;
const MAX_SYNC_STREAMS = 4;
/**
 * A connection that lasted this long resets the redial backoff. One that dies sooner does
 * not: a peer that refuses us (a ban, a foreign genesis) lets the Noise handshake finish
 * on our side and then closes, and we must not redial it at the initial rate forever.
 */
const HEALTHY_CONNECTION_MS = 2_000;
/** A backstop: peers that fell through the event-driven redial get dialed again. */
const DIAL_WATCHDOG_MS = 5_000;
const PING_MIN_TIMEOUT_MS = 15_000;
const STREAM_REOPEN_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

interface PeerSlot {
  readonly entry: PeerEntry;
  readonly consensus: OutboundChannel | undefined;
  /** What the peer may send us on consensus streams (all of them together). */
  readonly consensusBudget: InboundBudget | undefined;
  readonly tx: OutboundChannel;
  connected: boolean;
  dialing: boolean;
  dialAttempt: number;
  dialTimer: ReturnType<typeof setTimeout> | undefined;
  connectedAt: number;
  /** When the peer went away, or this host started if it was never connected (see disconnectedQueueMs). */
  disconnectedAt: number;
}

type State = 'created' | 'starting' | 'started' | 'stopped';

export class P2PNetwork {
  /** Our base58 peer id. */
  readonly peerId: string;
  readonly #node: Libp2p;
  readonly #table: PeerTable;
  readonly #self: number;
  readonly #listen: string;
  readonly #slots: (PeerSlot | undefined)[];
  readonly #log: NetLogger;
  readonly #maxFrameBytes: number;
  readonly #maxTxBytes: number;
  readonly #syncLimits: SyncLimits;
  readonly #syncTimeoutMs: number;
  readonly #syncServeTimeoutMs: number;
  readonly #frameTimeoutMs: number;
  readonly #consensusBudget: RateBudget;
  readonly #redial: BackoffPolicy;
  readonly #disconnectedQueueMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #penalties: PenaltyBox;
  readonly #stop = new AbortController();
  #state: State = 'created';
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #onConsensus: MessageHandler | undefined;
  #onTx: MessageHandler | undefined;
  #syncServer: SyncServer | undefined;
  #onConnected: PeerEventHandler | undefined;
  #onDisconnected: PeerEventHandler | undefined;

  private constructor(node: Libp2p, table: PeerTable, options: P2PNetworkOptions, penalties: PenaltyBox) {
    this.#node = node;
    this.peerId = node.peerId.toString();
    this.#table = table;
    this.#self = options.self;
    this.#listen = options.listen;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
    this.#maxTxBytes = options.maxTxBytes ?? DEFAULTS.maxTxBytes;
    this.#syncLimits = {
      maxItems: options.syncMaxItems ?? DEFAULTS.syncMaxItems,
      maxBytes: options.syncMaxBytes ?? DEFAULTS.syncMaxBytes,
      maxFrameBytes: this.#maxFrameBytes,
    };
    this.#syncTimeoutMs = options.syncTimeoutMs ?? DEFAULTS.syncTimeoutMs;
    this.#syncServeTimeoutMs = options.syncServeTimeoutMs ?? DEFAULTS.syncServeTimeoutMs;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? DEFAULTS.frameTimeoutMs;
    this.#consensusBudget = { ...DEFAULT_CONSENSUS_BUDGET, ...options.consensusBudget };
    this.#redial = options.redialBackoff ?? DEFAULT_REDIAL_BACKOFF;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#disconnectedQueueMs = options.disconnectedQueueMs ?? DEFAULTS.disconnectedQueueMs;
    this.#penalties = penalties;
    const maxQueueBytes = options.maxQueueBytes ?? DEFAULTS.maxQueueBytes;
    this.#slots = table.entries.map((entry) => {
      if (entry.index === options.self) return undefined;
      const channel = (protocol: string): OutboundChannel =>
        new OutboundChannel({
          maxQueueBytes,
          open: () => this.#openStream(entry, protocol),
          onViolation: (reason) => this.penalize(entry.index, `${protocol}: ${reason}`),
          onError: (err, context) => this.#log.debug({ peer: entry.index, protocol, err }, `net: ${context} failed`),
          reopenBackoff: STREAM_REOPEN_BACKOFF,
          random: this.#random,
        });
      // Consensus runs between validators only; observers get txs and sync.
      const consensus = entry.role === 'validator' && this.#isValidatorSelf() ? channel(CONSENSUS_PROTOCOL) : undefined;
      const consensusBudget = consensus === undefined ? undefined : new InboundBudget(this.#consensusBudget, this.#now);
      return { entry, consensus, consensusBudget, tx: channel(TX_PROTOCOL), connected: false, dialing: false, dialAttempt: 0, dialTimer: undefined, connectedAt: 0, disconnectedAt: 0 };
    });
  }

  /**
   * Builds the host (not yet listening). Throws NetError('bad-options') when the options
   * are inconsistent, e.g. when `seed` is not the key of peer `self`.
   */
  static async create(options: P2PNetworkOptions): Promise<P2PNetwork> {
    const table = PeerTable.build(options.validators, options.observers ?? []);
    const me = table.get(options.self);
    if (me === undefined) throw new NetError('bad-options', `self ${options.self} is not a peer index (0..${table.size - 1})`);
    const privateKey = await libp2pPrivateKey(options.seed);
    if (!privateKey.publicKey.equals(me.peerId.publicKey)) {
      throw new NetError('bad-options', `the seed's public key is not that of peer ${options.self}`);
    }
    checkOptions(options);
    const penalties = new PenaltyBox({ ...DEFAULT_PENALTY_POLICY, ...options.penalties }, options.now ?? Date.now);
    const pingIntervalMs = options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
    const log = options.logger ?? SILENT_LOGGER;
    // The gater is built before the node it guards; it counts connections through this.
    let built: Libp2p | undefined;
    const node = await createLibp2p({
      privateKey,
      start: false,
      addresses: { listen: [options.listen] },
      transports: [tcp()],
      connectionEncrypters: [
        cheapNoise(options.prologue === undefined ? {} : { prologueBytes: options.prologue }, () =>
          log.warn({}, 'net: noise changed shape; its frame decoder runs unpatched (slower, still correct)'),
        ),
      ],
      streamMuxers: [quietYamux(() => log.warn({}, 'net: yamux changed shape; it sends window credit after every frame (chattier, still correct)'))],
      connectionGater: admissionGater({
        admitted: table.ids(),
        isBlocked: (id) => {
          const entry = table.byId(id);
          return entry !== undefined && penalties.isBanned(entry.index);
        },
        atConnectionLimit: (id) => {
          const entry = table.byId(id);
          if (entry === undefined || built === undefined) return false;
          return built.getConnections(entry.peerId).filter((c) => c.status === 'open').length >= MAX_CONNECTIONS_PER_PEER;
        },
      }),
      connectionManager: {
        // libp2p refuses more than 5 inbound connections per second per remote IP by
        // default; peers that share an address (one host, NAT, restarts) need more.
        inboundConnectionThreshold: Math.max(5, 4 * table.size),
      },
      // The monitor pings each connection and aborts dead ones, which drives our redial.
      // It needs no ping service: a remote's "protocol not supported" answer counts as alive.
      // Its ping timeout adapts to measured RTTs but never drops below PING_MIN_TIMEOUT_MS:
      // a ping queues behind whatever else the connection carries, such as a large block.
      connectionMonitor:
        pingIntervalMs > 0
          ? { enabled: true, pingInterval: pingIntervalMs, pingTimeout: { minTimeout: PING_MIN_TIMEOUT_MS } }
          : { enabled: false },
    });
    built = node;
    return new P2PNetwork(node, table, options, penalties);
  }

  /** Listens, registers the protocols and dials every validator. */
  async start(): Promise<void> {
    if (this.#state === 'stopped') throw new NetError('stopped', 'a stopped host cannot start again');
    if (this.#state !== 'created') return;
    this.#state = 'starting';
    const node = this.#node;
    const oneWay = { maxInboundStreams: MAX_ONE_WAY_STREAMS, maxOutboundStreams: MAX_ONE_WAY_STREAMS };
    await node.handle(CONSENSUS_PROTOCOL, (stream, connection) => this.#acceptOneWay(stream, connection, CONSENSUS_PROTOCOL), oneWay);
    await node.handle(TX_PROTOCOL, (stream, connection) => this.#acceptOneWay(stream, connection, TX_PROTOCOL), oneWay);
    await node.handle(SYNC_PROTOCOL, (stream, connection) => this.#acceptSync(stream, connection), {
      maxInboundStreams: MAX_SYNC_STREAMS,
      maxOutboundStreams: MAX_SYNC_STREAMS,
    });
    node.addEventListener('peer:connect', (evt) => this.#peerConnected(evt.detail));
    node.addEventListener('peer:disconnect', (evt) => this.#peerDisconnected(evt.detail));
    try {
      await node.start();
    } catch (cause) {
      // libp2p stops itself when start fails; this host is done too.
      await this.stop();
      throw new NetError('listen-failed', `cannot listen on ${this.#listen}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    this.#state = 'started';
    this.#log.info({ peerId: this.peerId, listen: this.listenAddresses() }, 'net: listening');
    for (const slot of this.#slots) {
      if (slot === undefined) continue;
      slot.disconnectedAt = this.#now();
      // A peer that connected while libp2p was starting raised peer:connect too early for us.
      if (this.#openConnection(slot.entry) !== undefined) this.#markConnected(slot);
      else this.#dial(slot);
    }
    this.#watchdog = setInterval(() => {
      for (const slot of this.#slots) if (slot !== undefined) this.#scheduleDial(slot);
    }, DIAL_WATCHDOG_MS);
    this.#watchdog.unref();
  }

  /** Closes every connection and timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state !== 'created';
    this.#state = 'stopped';
    this.#stop.abort(new NetError('stopped', 'the host stopped'));
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    for (const slot of this.#slots) {
      if (slot === undefined) continue;
      if (slot.dialTimer !== undefined) clearTimeout(slot.dialTimer);
      slot.dialTimer = undefined;
      slot.consensus?.close();
      slot.tx.close();
    }
    if (wasRunning) {
      // A graceful close waits for the other end, which is often shutting down as well
      // (a whole network restarting): up to ~10 s per stop. Nothing in flight matters at
      // this point (votes are in the WAL, blocks are certified), so cut the connections.
      for (const connection of this.#node.getConnections()) connection.abort(new Error('node stopping'));
      await this.#node.stop();
    }
  }

  listenAddresses(): string[] {
    return this.#node.getMultiaddrs().map((ma) => ma.toString());
  }

  // --- consensus ------------------------------------------------------------------------

  /** Queues a consensus message for validator `to`. Never blocks; see channel.ts on drops. */
  sendConsensus(to: number, bytes: Uint8Array): void {
    const slot = this.#slot(to);
    if (slot?.consensus === undefined) throw new NetError('unknown-peer', `no consensus peer ${to}`);
    if (this.#state === 'stopped') return;
    this.#parkIfGone(slot);
    slot.consensus.enqueue(this.#frame(bytes, this.#maxFrameBytes));
  }

  /** Queues a consensus message for every other validator (framed once for all). */
  broadcastConsensus(bytes: Uint8Array): void {
    if (this.#state === 'stopped') return;
    const frame = this.#frame(bytes, this.#maxFrameBytes);
    for (const slot of this.#slots) {
      if (slot === undefined) continue;
      this.#parkIfGone(slot);
      slot.consensus?.enqueue(frame);
    }
  }

  /** Past disconnectedQueueMs of absence, a peer's queues are dropped until it is back (markConnected kicks them). */
  #parkIfGone(slot: PeerSlot): void {
    if (slot.connected || this.#now() - slot.disconnectedAt < this.#disconnectedQueueMs) return;
    slot.consensus?.park();
    slot.tx.park();
  }

  onConsensus(handler: MessageHandler): void {
    this.#onConsensus = handler;
  }

  // --- tx gossip ------------------------------------------------------------------------

  /**
   * Queues a tx for every connected peer but `except` (the peer we got it from). Peers
   * not connected right now are skipped: gossip is best-effort (the tx is in the other
   * mempools), and holding txs for a peer that is down would only hand it stale ones.
   */
  broadcastTx(bytes: Uint8Array, except?: number): void {
    if (this.#state === 'stopped') return;
    const frame = this.#frame(bytes, this.#maxTxBytes);
    for (const slot of this.#slots) {
      if (slot !== undefined && slot.connected && slot.entry.index !== except) slot.tx.enqueue(frame);
    }
  }

  /** Queues a tx for peer `to` if it is connected now; skipped otherwise, as in broadcastTx. */
  sendTx(to: number, bytes: Uint8Array): void {
    const slot = this.#slot(to);
    if (slot === undefined) throw new NetError('unknown-peer', `no peer ${to}`);
    if (this.#state === 'stopped' || !slot.connected) return;
    slot.tx.enqueue(this.#frame(bytes, this.#maxTxBytes));
  }

  onTx(handler: MessageHandler): void {
    this.#onTx = handler;
  }

  // --- sync -----------------------------------------------------------------------------

  /** Answers peers' sync requests; each returned element is one encoded item. */
  serveSync(handler: SyncServer): void {
    this.#syncServer = handler;
  }

  /**
   * Asks `peer` for items in [fromHeight, toHeight]. Resolves the (possibly shorter,
   * possibly empty) prefix the peer sent, within the response bounds. Rejects with
   * NetError: 'timeout', 'aborted', 'stopped', 'not-connected', 'sync-failed',
   * 'bad-response' (the peer is penalized), 'bad-request', 'unknown-peer'.
   */
  async requestSync(peer: number, request: SyncRequest, options: SyncRequestOptions = {}): Promise<Uint8Array[]> {
    const slot = this.#slot(peer);
    if (slot === undefined) throw new NetError('unknown-peer', `no peer ${peer}`);
    if (!isValidSyncRequest(request)) throw new NetError('bad-request', `bad sync range ${request.fromHeight}..${request.toHeight}`);
    if (this.#state === 'stopped') throw new NetError('stopped', 'the host stopped');
    if (this.#state !== 'started') throw new NetError('not-started', 'the host is not started');
    const connection = this.#openConnection(slot.entry);
    if (connection === undefined) throw new NetError('not-connected', `not connected to peer ${peer}`);

    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new NetError('timeout', 'sync request timed out')), options.timeoutMs ?? this.#syncTimeoutMs);
    const signals = [this.#stop.signal, timeout.signal];
    if (options.signal !== undefined) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    const failure = (fallback: NetError): NetError => {
      if (options.signal?.aborted === true) return new NetError('aborted', 'sync request aborted', { cause: options.signal.reason });
      if (this.#stop.signal.aborted) return new NetError('stopped', 'the host stopped');
      if (timeout.signal.aborted) return new NetError('timeout', 'sync request timed out');
      return fallback;
    };
    try {
      let stream: Stream;
      try {
        stream = await connection.newStream(SYNC_PROTOCOL, { signal });
      } catch (cause) {
        throw failure(new NetError('sync-failed', `cannot open a sync stream to peer ${peer}`, { cause }));
      }
      const result = await exchangeSync(stream, request, this.#syncLimits, signal);
      if (result.ok) return result.value;
      const error = result.error;
      if (error.code === 'bad-frame' || error.code === 'over-limit') {
        this.penalize(peer, `sync response: ${error.message}`);
        throw new NetError('bad-response', `peer ${peer} sent a bad sync response: ${error.message}`);
      }
      throw failure(new NetError('sync-failed', `sync stream to peer ${peer} failed`, { cause: error.code === 'closed' ? error.cause : undefined }));
    } finally {
      clearTimeout(timer);
    }
  }

  // --- peers ----------------------------------------------------------------------------

  /** Indices of the peers we hold at least one connection to, ascending. */
  connectedPeers(): number[] {
    const out: number[] = [];
    for (const slot of this.#slots) if (slot?.connected === true) out.push(slot.entry.index);
    return out;
  }

  onPeerConnected(handler: PeerEventHandler): void {
    this.#onConnected = handler;
  }

  onPeerDisconnected(handler: PeerEventHandler): void {
    this.#onDisconnected = handler;
  }

  /**
   * Records misbehaviour (a frame that failed to decode or verify). Counted per peer per
   * minute and logged rate-limited; past the threshold the peer is disconnected and
   * refused (both ways) for the ban period. Never throws.
   */
  penalize(peer: number, reason: string): void {
    const slot = this.#slot(peer);
    if (slot === undefined) return;
    const outcome = this.#penalties.record(peer);
    if (outcome.log) {
      this.#log.warn({ peer, reason, inWindow: outcome.windowCount, suppressed: outcome.suppressed }, 'net: peer misbehaved');
    }
    if (outcome.bannedUntil !== undefined) {
      this.#log.warn({ peer, until: new Date(outcome.bannedUntil).toISOString() }, 'net: banning peer');
      if (slot.dialTimer !== undefined) clearTimeout(slot.dialTimer);
      slot.dialTimer = undefined;
      if (this.#state === 'started') {
        this.#node.hangUp(slot.entry.peerId).catch((err: unknown) => this.#log.debug({ peer, err }, 'net: hang up failed'));
      }
    }
  }

  peerStats(peer: number): PeerStats | undefined {
    const slot = this.#slot(peer);
    if (slot === undefined) return undefined;
    return {
      index: peer,
      role: slot.entry.role,
      peerId: slot.entry.id,
      connected: slot.connected,
      banned: this.#penalties.isBanned(peer),
      penalties: this.#penalties.total(peer),
      consensus: slot.consensus?.stats,
      tx: slot.tx.stats,
    };
  }

  // --- internals ------------------------------------------------------------------------

  #isValidatorSelf(): boolean {
    return this.#self < this.#table.validatorCount;
  }

  #slot(peer: number): PeerSlot | undefined {
    return Number.isInteger(peer) ? this.#slots[peer] : undefined;
  }

  #frame(bytes: Uint8Array, max: number): Uint8Array {
    // Receivers drop the stream for either (and penalize us), so neither may leave.
    if (bytes.length > max) {
      throw new NetError('frame-too-large', `a message must be at most ${max} bytes, got ${bytes.length}`);
    }
    if (bytes.length === 0) throw new NetError('empty-message', 'a message must not be empty');
    return encodeFrame(bytes);
  }

  #openConnection(entry: PeerEntry): Connection | undefined {
    return this.#node.getConnections(entry.peerId).find((c) => c.status === 'open');
  }

  /** Opens a stream over an existing connection only: dialing is #dial's job. */
  async #openStream(entry: PeerEntry, protocol: string): Promise<Stream | undefined> {
    if (this.#state !== 'started') return undefined;
    const connection = this.#openConnection(entry);
    if (connection === undefined) return undefined;
    return connection.newStream(protocol, { signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(10_000)]) });
  }

  #slotOf(connection: Connection): PeerSlot | undefined {
    const entry = this.#table.byId(connection.remotePeer.toString());
    return entry === undefined ? undefined : this.#slots[entry.index];
  }

  #acceptOneWay(stream: Stream, connection: Connection, protocol: string): void {
    const slot = this.#slotOf(connection);
    const consensus = protocol === CONSENSUS_PROTOCOL;
    if (slot === undefined || (consensus && slot.consensus === undefined)) {
      stream.abort(new Error(`${protocol} is not open to this peer`));
      return;
    }
    const peer = slot.entry.index;
    // We never write on a peer's one-way stream: close our side at once, so the stream is
    // fully closed as soon as the peer closes its side.
    stream.close().catch(() => undefined);
    // A tx frame is far smaller than a consensus frame: a peer can make us hold at most
    // one partial frame per stream, so this bounds what tx streams can pin. Consensus
    // frames cost a decode and usually a signature check each, so they are rate limited
    // too; tx gossip has its own defence (bad txs are penalized, the mempool is bounded).
    readInbound(stream, {
      maxFrameBytes: consensus ? this.#maxFrameBytes : this.#maxTxBytes,
      frameTimeoutMs: this.#frameTimeoutMs,
      ...(consensus && slot.consensusBudget !== undefined ? { budget: slot.consensusBudget } : {}),
      onFrame: (frame) => {
        const handler = consensus ? this.#onConsensus : this.#onTx;
        if (handler === undefined) return;
        try {
          handler(peer, frame);
        } catch (err) {
          this.#log.error({ peer, protocol, err }, 'net: message handler threw');
        }
      },
      onViolation: (reason) => this.penalize(peer, `${protocol}: ${reason}`),
    });
  }

  #acceptSync(stream: Stream, connection: Connection): void {
    const slot = this.#slotOf(connection);
    if (slot === undefined) {
      stream.abort(new Error('sync is not open to this peer'));
      return;
    }
    void this.#serveSyncStream(stream, slot.entry.index);
  }

  async #serveSyncStream(stream: Stream, peer: number): Promise<void> {
    const server = this.#syncServer;
    if (server === undefined) {
      stream.abort(new Error('this node serves no sync'));
      return;
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error('sync serve timed out')), this.#syncServeTimeoutMs);
    const signal = AbortSignal.any([this.#stop.signal, timeout.signal]);
    try {
      const request = await readSyncRequest(stream, signal);
      if (request === undefined) {
        stream.abort(new Error('no sync request'));
        return;
      }
      if (!request.ok) {
        this.penalize(peer, `sync request: ${request.error}`);
        stream.abort(new Error(`bad sync request: ${request.error}`));
        return;
      }
      // The server may be slow; it must not outlive the exchange's deadline or the host.
      const items = await untilAborted(server(peer, request.value), signal);
      await writeSyncResponse(stream, boundedPrefix(items, this.#syncLimits), signal);
    } catch (err) {
      this.#log.debug({ peer, err }, 'net: serving sync failed');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearTimeout(timer);
    }
  }

  #peerConnected(peerId: PeerId): void {
    const entry = this.#table.byId(peerId.toString());
    const slot = entry === undefined ? undefined : this.#slots[entry.index];
    if (slot !== undefined) this.#markConnected(slot);
  }

  /** Idempotent: called from libp2p's peer:connect and from our own dial's success. */
  #markConnected(slot: PeerSlot): void {
    if (slot.connected || this.#state !== 'started') return;
    slot.connected = true;
    slot.connectedAt = Date.now();
    if (slot.dialTimer !== undefined) clearTimeout(slot.dialTimer);
    slot.dialTimer = undefined;
    this.#log.info({ peer: slot.entry.index }, 'net: peer connected');
    slot.consensus?.kick();
    slot.tx.kick();
    this.#emit(this.#onConnected, slot.entry.index);
  }

  #peerDisconnected(peerId: PeerId): void {
    const entry = this.#table.byId(peerId.toString());
    const slot = entry === undefined ? undefined : this.#slots[entry.index];
    if (slot === undefined || !slot.connected) return;
    slot.connected = false;
    slot.disconnectedAt = this.#now();
    slot.dialAttempt = Date.now() - slot.connectedAt >= HEALTHY_CONNECTION_MS ? 0 : slot.dialAttempt + 1;
    if (this.#state !== 'started') return;
    this.#log.info({ peer: slot.entry.index }, 'net: peer disconnected');
    this.#emit(this.#onDisconnected, slot.entry.index);
    this.#scheduleDial(slot);
  }

  #emit(handler: PeerEventHandler | undefined, peer: number): void {
    try {
      handler?.(peer);
    } catch (err) {
      this.#log.error({ peer, err }, 'net: peer event handler threw');
    }
  }

  #dial(slot: PeerSlot): void {
    const address = slot.entry.address;
    if (address === undefined || this.#state !== 'started' || slot.connected || slot.dialing) return;
    if (this.#penalties.isBanned(slot.entry.index)) {
      this.#scheduleDial(slot);
      return;
    }
    slot.dialing = true;
    this.#node.dial(address, { signal: this.#stop.signal }).then(
      (connection) => {
        slot.dialing = false;
        // Usually peer:connect has done this already; not when libp2p handed back a
        // connection it had before we were listening for events.
        if (connection.status === 'open') {
          this.#markConnected(slot);
        } else if (!slot.connected) {
          slot.dialAttempt += 1;
          this.#scheduleDial(slot);
        }
      },
      (err: unknown) => {
        slot.dialing = false;
        if (this.#state !== 'started') return;
        this.#log.debug({ peer: slot.entry.index, attempt: slot.dialAttempt, err }, 'net: dial failed');
        slot.dialAttempt += 1;
        this.#scheduleDial(slot);
      },
    );
  }

  #scheduleDial(slot: PeerSlot): void {
    if (slot.entry.address === undefined || this.#state !== 'started') return;
    if (slot.connected || slot.dialing || slot.dialTimer !== undefined) return;
    let delay = backoffDelay(this.#redial, slot.dialAttempt, this.#random);
    const bannedFor = this.#penalties.bannedUntil(slot.entry.index) - this.#now();
    if (bannedFor > 0) delay = Math.max(delay, bannedFor);
    slot.dialTimer = setTimeout(() => {
      slot.dialTimer = undefined;
      this.#dial(slot);
    }, delay);
  }
}
