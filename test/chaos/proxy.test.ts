/**
 * The chaos proxy on plain TCP: it names the dialer from the kernel's socket table,
 * forwards both ways, delays in order, drops, cuts and refuses, and heals.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosProxy, processDialerLookup, socketInode, socketOwner } from './proxy.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
let proxy: ChaosProxy | undefined;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  proxy = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** An echo server on a free port. */
async function echoServer(): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

/** Sends `text` and resolves with the echo and how long it took; undefined when the connection closes first or on timeout. */
function roundTrip(s: Socket, text: string, timeoutMs = 3_000): Promise<{ echo: string; ms: number } | undefined> {
  return new Promise((resolve) => {
    const started = Date.now();
    let got = '';
    const done = (v: { echo: string; ms: number } | undefined): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      resolve(v);
    };
    const onData = (c: Buffer): void => {
      got += c.toString();
      if (got.length >= text.length) done({ echo: got, ms: Date.now() - started });
    };
    const onClose = (): void => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.on('data', onData);
    s.on('close', onClose);
    s.write(text);
  });
}

/** A proxy for "node 1" in front of an echo server; this test process is "node 0". */
async function setup(): Promise<{ port: number }> {
  const target = await echoServer();
  const port = await freePort();
  proxy = await ChaosProxy.start([{ node: 1, listenPort: port, targetPort: target }], processDialerLookup(() => new Map([[process.pid, 0]])));
  return { port };
}

describe('the kernel socket table', () => {
  it('names the process that owns the client end of a connection', async () => {
    const port = await echoServer();
    const s = await connect(port);
    const inode = await socketInode(s.localPort as number, port);
    expect(inode).toMatch(/^[0-9]+$/);
    expect(await socketOwner(inode as string, [process.pid])).toBe(process.pid);
    expect(await socketOwner(inode as string, [1])).toBeUndefined();
  });
});

describe('ChaosProxy', () => {
  it('forwards both ways and knows who dialed whom', async () => {
    const { port } = await setup();
    const s = await connect(port);
    expect((await roundTrip(s, 'hello'))?.echo).toBe('hello');
    expect(proxy?.connections()).toEqual([[0, 1]]);
  });

  it('closes a connection whose dialer it cannot name', async () => {
    const target = await echoServer();
    const port = await freePort();
    proxy = await ChaosProxy.start([{ node: 1, listenPort: port, targetPort: target }], processDialerLookup(() => new Map()));
    const s = await connect(port);
    expect(await roundTrip(s, 'x', 2_000)).toBeUndefined();
    expect(proxy.stats.unidentified).toBe(1);
  });

  it('delays one direction, keeping the order of the bytes', async () => {
    const { port } = await setup();
    const s = await connect(port);
    expect((await roundTrip(s, 'warm'))?.ms).toBeLessThan(150);
    proxy?.delay(0, 1, 300);
    const slow = await roundTrip(s, 'abcdefghij');
    expect(slow?.echo).toBe('abcdefghij');
    expect(slow?.ms).toBeGreaterThanOrEqual(280);
    proxy?.heal(0, 1);
    expect((await roundTrip(s, 'fast'))?.ms).toBeLessThan(150);
  });

  it('drops chunks in one direction', async () => {
    const { port } = await setup();
    const s = await connect(port);
    proxy?.drop(1, 0, 1);
    expect(await roundTrip(s, 'lost', 500)).toBeUndefined();
    expect(proxy?.stats.droppedChunks).toBeGreaterThan(0);
  });

  it('cuts: destroys open connections and refuses new ones until healed', async () => {
    const { port } = await setup();
    const s = await connect(port);
    expect((await roundTrip(s, 'before'))?.echo).toBe('before');
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    proxy?.cut(0, 1);
    await closed;
    const again = await connect(port);
    expect(await roundTrip(again, 'during', 1_000)).toBeUndefined();
    proxy?.heal(0, 1);
    const healed = await connect(port);
    expect((await roundTrip(healed, 'after'))?.echo).toBe('after');
  });
});
