import { readFile } from 'node:fs/promises';

/**
 * Port bases for test networks. Node i of a network listens on base + 10i (p2p) and
 * base + 10i + 1 (RPC). The base is drawn at random from below the kernel's ephemeral
 * range: a port in that range may be taken at any moment by an outgoing connection (ours
 * or anything else on the machine), which would fail a node's start (or restart) with
 * EADDRINUSE. Tests draw from 10,000 up to that range, which takes in the bench's bases
 * (20,000-32,000): a bench and the tests are not meant to share the machine.
 */
const LOWEST_BASE = 10_000;

/** The first port of the kernel's ephemeral range (Linux's default when unreadable). */
async function ephemeralPortLow(): Promise<number> {
  try {
    const low = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
    return Number.isSafeInteger(low) && low > LOWEST_BASE + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A random port base for an n-node network whose every port lies below the ephemeral range. */
export async function randomBasePort(n: number): Promise<number> {
  const slots = Math.max(1, Math.floor((await ephemeralPortLow() - LOWEST_BASE - 10 * n) / 10));
  return LOWEST_BASE + 10 * Math.floor(Math.random() * slots);
}
