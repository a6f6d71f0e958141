import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { admissionGater } from '../../src/net/gater.js';
import { peerIdOfValidator } from '../../src/net/identity.js';

const peer = (i: number) => peerIdOfValidator(keyPairFromSeed(new Uint8Array(32).fill(i)).publicKey);
const validator = peer(1);
const observer = peer(2);
const outsider = peer(3);
// The gater never looks at the socket; a stand-in suffices.
const maConn = {} as MultiaddrConnection;

type PeerStage = 'denyDialPeer' | 'denyOutboundConnection' | 'denyInboundEncryptedConnection' | 'denyOutboundEncryptedConnection' | 'denyInboundUpgradedConnection' | 'denyOutboundUpgradedConnection';
const STAGES: PeerStage[] = [
  'denyDialPeer',
  'denyOutboundConnection',
  'denyInboundEncryptedConnection',
  'denyOutboundEncryptedConnection',
  'denyInboundUpgradedConnection',
  'denyOutboundUpgradedConnection',
];

async function denied(gater: ConnectionGater, stage: PeerStage, id: ReturnType<typeof peer>): Promise<boolean> {
  const check = gater[stage];
  expect(check).toBeTypeOf('function');
  return (await check!.call(gater, id, maConn)) === true;
}

describe('admission gater', () => {
  const blocked = new Set<string>();
  const gater = admissionGater({
    admitted: new Set([validator.toString(), observer.toString()]),
    isBlocked: (id) => blocked.has(id),
  });

  it('refuses an outsider at every stage where its peer id is known', async () => {
    for (const stage of STAGES) {
      expect(await denied(gater, stage, outsider), stage).toBe(true);
      expect(await denied(gater, stage, validator), stage).toBe(false);
      expect(await denied(gater, stage, observer), stage).toBe(false);
    }
  });

  it('refuses a blocked (banned) member until unblocked', async () => {
    blocked.add(validator.toString());
    for (const stage of STAGES) expect(await denied(gater, stage, validator), stage).toBe(true);
    blocked.delete(validator.toString());
    for (const stage of STAGES) expect(await denied(gater, stage, validator), stage).toBe(false);
  });

  it('dials only multiaddrs that name an admitted peer', async () => {
    expect(await gater.denyDialMultiaddr?.(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${validator.toString()}`))).toBe(false);
    expect(await gater.denyDialMultiaddr?.(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${outsider.toString()}`))).toBe(true);
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(true);
  });

  it('never relays and keeps addresses only for members', async () => {
    expect(await gater.denyInboundRelayReservation?.(validator)).toBe(true);
    expect(await gater.denyInboundRelayedConnection?.(validator, validator)).toBe(true);
    expect(await gater.filterMultiaddrForPeer?.(outsider, multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(false);
    expect(await gater.filterMultiaddrForPeer?.(observer, multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(true);
  });
});
