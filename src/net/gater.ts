/**
 * The connection gater: only genesis validators and configured observers may hold a
 * connection. libp2p consults the gater at every stage of a connection; we refuse at each
 * stage where the remote's peer id is known, so an outsider is dropped right after the
 * Noise handshake proves its identity — before multiplexing, before any protocol runs.
 * (An inbound socket's peer id is unknown until that handshake, so the very first stage
 * cannot judge it.)
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import { CODE_P2P, type Multiaddr } from '@multiformats/multiaddr';

export interface AdmissionPolicy {
  /** Base58 peer ids allowed to connect: the validators and observers. */
  readonly admitted: ReadonlySet<string>;
  /**
   * Admitted peers that are refused for now (a penalty ban). Consulted on every check, so
   * a ban takes effect for dials in both directions without rebuilding the gater.
   */
  readonly isBlocked?: (peerId: string) => boolean;
  /**
   * Whether an admitted peer already holds as many connections as it may: a further
   * inbound one is refused once its identity is known. Without this, one validator's key
   * could open dozens of connections, each with its own stream allowance (and so its own
   * share of our buffers), and push libp2p towards pruning honest peers' connections.
   */
  readonly atConnectionLimit?: (peerId: string) => boolean;
}

export function admissionGater(policy: AdmissionPolicy): ConnectionGater {
  const deny = (peer: PeerId): boolean => {
    const id = peer.toString();
    return !policy.admitted.has(id) || policy.isBlocked?.(id) === true;
  };
  const denyInbound = (peer: PeerId): boolean => deny(peer) || policy.atConnectionLimit?.(peer.toString()) === true;
  return {
    denyDialPeer: deny,
    // Every address we dial carries /p2p/<id>; one without it could reach anyone.
    denyDialMultiaddr: (multiaddr: Multiaddr) => {
      const id = peerIdInMultiaddr(multiaddr);
      return id === undefined || !policy.admitted.has(id) || policy.isBlocked?.(id) === true;
    },
    denyOutboundConnection: deny,
    denyInboundEncryptedConnection: denyInbound,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: denyInbound,
    denyOutboundUpgradedConnection: deny,
    // We never relay, and never accept relayed connections.
    denyInboundRelayReservation: () => true,
    denyOutboundRelayedConnection: () => true,
    denyInboundRelayedConnection: () => true,
    // Keep addresses only for peers we would talk to.
    filterMultiaddrForPeer: (peer: PeerId) => policy.admitted.has(peer.toString()),
  };
}

/** The last /p2p/<id> component of a multiaddr, if any. */
export function peerIdInMultiaddr(multiaddr: Multiaddr): string | undefined {
  return multiaddr.getComponents().findLast((c) => c.code === CODE_P2P)?.value;
}
