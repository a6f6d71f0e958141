/**
 * Helpers for real-libp2p tests: hosts on 127.0.0.1 only, deterministic keys, free ports,
 * message recorders, and a registry that stops everything a test started.
 */
import { createServer } from 'node:net';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { utf8 } from '../../src/crypto/bytes.js';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/hash.js';
import { P2PNetwork, type P2PNetworkOptions } from '../../src/net/host.js';
import { libp2pPrivateKey } from '../../src/net/identity.js';

export function testKey(label: string, index: number): KeyPair {
  return keyPairFromSeed(sha256(utf8(`net-test/${label}/${index}`)));
}

/** Ports the OS reports free on 127.0.0.1 (bound, read, released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export const addressOf = (port: number): string => `/ip4/127.0.0.1/tcp/${port}`;

export interface Received {
  readonly from: number;
  readonly text: string;
}

/** Records what a host's handlers receive, as text. */
export class Inbox {
  readonly consensus: Received[] = [];
  readonly tx: Received[] = [];
  readonly connected: number[] = [];
  readonly disconnected: number[] = [];

  constructor(host: P2PNetwork) {
    const decoder = new TextDecoder();
    host.onConsensus((from, bytes) => this.consensus.push({ from, text: decoder.decode(bytes) }));
    host.onTx((from, bytes) => this.tx.push({ from, text: decoder.decode(bytes) }));
    host.onPeerConnected((peer) => this.connected.push(peer));
    host.onPeerDisconnected((peer) => this.disconnected.push(peer));
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const text = (s: string): Uint8Array => utf8(s);

/** Everything a test starts, stopped in afterEach. */
export class Registry {
  readonly #hosts: P2PNetwork[] = [];
  readonly #raw: Libp2p[] = [];

  async host(options: P2PNetworkOptions): Promise<P2PNetwork> {
    const host = await P2PNetwork.create(options);
    this.#hosts.push(host);
    return host;
  }

  /**
   * A bare libp2p node with the same transport stack and the given seed as identity, for
   * playing a misbehaving or unknown peer. It accepts anyone (no gater).
   */
  async raw(seed: Uint8Array, listen: string[] = []): Promise<Libp2p> {
    const node = await createLibp2p({
      privateKey: await libp2pPrivateKey(seed),
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
    });
    this.#raw.push(node);
    return node;
  }

  async stopAll(): Promise<void> {
    const hosts = this.#hosts.splice(0);
    const raw = this.#raw.splice(0);
    await Promise.all([...hosts.map((h) => h.stop()), ...raw.map((n) => n.stop())]);
  }
}

/** Genesis-like validator list for `count` test keys on the given ports. */
export function validatorsFor(label: string, ports: readonly number[]): { keys: KeyPair[]; validators: { publicKey: Uint8Array; p2p: string }[] } {
  const keys = ports.map((_, i) => testKey(label, i));
  return { keys, validators: keys.map((k, i) => ({ publicKey: k.publicKey, p2p: addressOf(ports[i]!) })) };
}

/** Fast redials so reconnect tests take well under a second. */
export const FAST_REDIAL = { initialMs: 50, maxMs: 400 };
