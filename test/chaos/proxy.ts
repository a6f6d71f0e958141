/**
 * A fault-injecting TCP proxy between real validators, on 127.0.0.1 only.
 *
 * The genesis names each validator's p2p address as a proxy port; each node listens on a
 * real port of its own (`ledger-node start --p2p`). So every connection between two
 * validators passes through here, and the proxy can, per directed link (bytes from node i
 * to node j), delay, drop or cut traffic, and heal.
 *
 * libp2p connections are encrypted (Noise), so the proxy cannot tell who dialed from the
 * bytes; it asks the kernel instead: the dialer is the process that owns the other end of
 * the accepted socket (/proc/net/tcp + /proc/PID/fd; Linux only). A connection whose dialer
 * cannot be named is closed (the node redials).
 *
 * What the faults mean for a byte stream:
 * - delay: every chunk in that direction is held for `delayMs` (+ up to `jitterMs`), in order.
 * - drop: each chunk in that direction is discarded with probability `dropRate`. Inside an
 *   encrypted stream that desynchronizes the receiver, which closes the connection: a lossy
 *   link shows up as connections that keep breaking and redialing.
 * - cut (a partition): existing connections between the two nodes are destroyed and new
 *   ones refused, both directions, until healed.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const HOST = '127.0.0.1';
/** Held bytes per connection direction beyond which the connection is cut (a delay must not hoard memory). */
const MAX_HELD_BYTES = 64 * 1024 * 1024;

export interface ProxyRoute {
  /** The validator behind this port. */
  readonly node: number;
  /** The port named in the genesis (the proxy listens on it). */
  readonly listenPort: number;
  /** The node's real p2p port. */
  readonly targetPort: number;
}

interface LinkRule {
  delayMs: number;
  jitterMs: number;
  dropRate: number;
}

/** Names the validator that owns the client end of a connection to `proxyPort` from `clientPort`. */
export type DialerLookup = (clientPort: number, proxyPort: number) => Promise<number | undefined>;

export interface ProxyStats {
  accepted: number;
  /** Closed because the dialer could not be named. */
  unidentified: number;
  /** Refused or destroyed by a partition. */
  refused: number;
  /** Chunks discarded by drop rules. */
  droppedChunks: number;
  /** Connections currently open. */
  open: number;
}

interface Tunnel {
  readonly dialer: number;
  readonly target: number;
  readonly client: Socket;
  readonly server: Socket;
}

export class ChaosProxy {
  readonly stats: ProxyStats = { accepted: 0, unidentified: 0, refused: 0, droppedChunks: 0, open: 0 };
  private readonly servers: Server[] = [];
  private readonly tunnels = new Set<Tunnel>();
  private readonly rules = new Map<string, LinkRule>();
  private readonly cuts = new Set<string>();
  private closed = false;

  private constructor(
    private readonly lookup: DialerLookup,
    private readonly random: () => number,
  ) {}

  static async start(routes: readonly ProxyRoute[], lookup: DialerLookup, random: () => number = Math.random): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(lookup, random);
    try {
      for (const route of routes) await proxy.listen(route);
    } catch (err) {
      await proxy.close();
      throw err;
    }
    return proxy;
  }

  // ------------------------------------------------------------------------------------
  // Faults

  /** Holds bytes from `from` to `to` for delayMs (+ up to jitterMs). */
  delay(from: number, to: number, delayMs: number, jitterMs = 0): void {
    this.rule(from, to).delayMs = Math.max(0, delayMs);
    this.rule(from, to).jitterMs = Math.max(0, jitterMs);
  }

  /** Discards each chunk from `from` to `to` with probability `rate`. */
  drop(from: number, to: number, rate: number): void {
    this.rule(from, to).dropRate = Math.min(1, Math.max(0, rate));
  }

  /** Partitions a from b, both directions: open connections between them are destroyed, new ones refused. */
  cut(a: number, b: number): void {
    this.cuts.add(pairKey(a, b));
    for (const t of this.tunnels) if (pairKey(t.dialer, t.target) === pairKey(a, b)) this.destroy(t, true);
  }

  /** Cuts `node` off from every one of `others`. */
  isolate(node: number, others: readonly number[]): void {
    for (const other of others) if (other !== node) this.cut(node, other);
  }

  /** Removes every fault on the link between a and b (both directions). */
  heal(a: number, b: number): void {
    this.cuts.delete(pairKey(a, b));
    this.rules.delete(linkKey(a, b));
    this.rules.delete(linkKey(b, a));
  }

  healAll(): void {
    this.cuts.clear();
    this.rules.clear();
  }

  isCut(a: number, b: number): boolean {
    return this.cuts.has(pairKey(a, b));
  }

  /** Open connections, as [dialer, target] pairs (for tests and diagnostics). */
  connections(): [number, number][] {
    return [...this.tunnels].map((t) => [t.dialer, t.target]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.tunnels) this.destroy(t, false);
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  // ------------------------------------------------------------------------------------
  // Plumbing

  private rule(from: number, to: number): LinkRule {
    const key = linkKey(from, to);
    let rule = this.rules.get(key);
    if (rule === undefined) {
      rule = { delayMs: 0, jitterMs: 0, dropRate: 0 };
      this.rules.set(key, rule);
    }
    return rule;
  }

  private async listen(route: ProxyRoute): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (client) => void this.accept(route, client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(route.listenPort, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    this.servers.push(server);
  }

  private async accept(route: ProxyRoute, client: Socket): Promise<void> {
    this.stats.accepted++;
    client.on('error', () => {});
    const clientPort = client.remotePort;
    const dialer = clientPort === undefined ? undefined : await this.lookup(clientPort, route.listenPort).catch(() => undefined);
    if (this.closed || client.destroyed) {
      client.destroy();
      return;
    }
    if (dialer === undefined || dialer === route.node) {
      this.stats.unidentified++;
      client.destroy();
      return;
    }
    if (this.isCut(dialer, route.node)) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    const server = createConnection({ host: HOST, port: route.targetPort });
    server.on('error', () => {});
    const tunnel: Tunnel = { dialer, target: route.node, client, server };
    this.tunnels.add(tunnel);
    this.stats.open++;
    const teardown = (): void => this.destroy(tunnel, false);
    client.on('close', teardown);
    server.on('close', teardown);
    server.once('connect', () => {
      this.pipe(tunnel, client, server, dialer, route.node);
      this.pipe(tunnel, server, client, route.node, dialer);
      client.resume();
    });
  }

  /** Forwards `source` to `sink` as bytes from node `from` to node `to`, applying that link's rule chunk by chunk. */
  private pipe(tunnel: Tunnel, source: Socket, sink: Socket, from: number, to: number): void {
    const key = linkKey(from, to);
    let held = 0;
    let lastDue = 0;
    source.on('data', (chunk: Buffer) => {
      const rule = this.rules.get(key);
      if (rule === undefined || (rule.delayMs === 0 && rule.jitterMs === 0 && rule.dropRate === 0)) {
        if (held === 0) {
          sink.write(chunk);
          return;
        }
      } else if (rule.dropRate > 0 && this.random() < rule.dropRate) {
        this.stats.droppedChunks++;
        return;
      }
      // Delayed (or queued behind delayed bytes): keep the stream's order.
      const wait = rule === undefined ? 0 : rule.delayMs + this.random() * rule.jitterMs;
      const due = Math.max(Date.now() + wait, lastDue);
      lastDue = due;
      held += chunk.length;
      if (held > MAX_HELD_BYTES) {
        this.destroy(tunnel, false);
        return;
      }
      setTimeout(() => {
        held -= chunk.length;
        if (!sink.destroyed) sink.write(chunk);
      }, Math.max(0, due - Date.now()));
    });
  }

  private destroy(tunnel: Tunnel, byCut: boolean): void {
    if (!this.tunnels.delete(tunnel)) return;
    this.stats.open--;
    if (byCut) this.stats.refused++;
    tunnel.client.destroy();
    tunnel.server.destroy();
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}

function pairKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

// ---------------------------------------------------------------------------------------
// Who dialed: the kernel's socket table

/** The inode of the IPv4 TCP socket bound to 127.0.0.1:`localPort` and connected to port `remotePort`. */
export async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    const inode = fields[9];
    if (local === undefined || remote === undefined || inode === undefined) continue;
    if (portOf(local) === localPort && portOf(remote) === remotePort && inode !== '0') return inode;
  }
  return undefined;
}

function portOf(address: string): number {
  return Number.parseInt(address.slice(address.indexOf(':') + 1), 16);
}

/** Which of `pids` holds a descriptor for socket `inode`. */
export async function socketOwner(inode: string, pids: readonly number[]): Promise<number | undefined> {
  const wanted = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)) === wanted) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * A DialerLookup over live processes: `pids()` maps each running validator's pid to its
 * index. The socket table is read a few times: a connection being set up may not be
 * listed at the very first look.
 */
export function processDialerLookup(pids: () => ReadonlyMap<number, number>): DialerLookup {
  return async (clientPort, proxyPort) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inode = await socketInode(clientPort, proxyPort);
      if (inode !== undefined) {
        const map = pids();
        const pid = await socketOwner(inode, [...map.keys()]);
        if (pid !== undefined) return map.get(pid);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  };
}
