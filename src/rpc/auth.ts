import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The optional bearer token that guards the methods that change the node (broadcast_tx_*):
 * when the node has one, such a call must carry `Authorization: Bearer <token>` or it is
 * answered -32001 unauthorized; reads stay open to anyone who can reach the port.
 *
 * The check compares SHA-256 digests with timingSafeEqual, so neither the length nor any
 * prefix of the token leaks through response times. The token itself is kept only as its
 * digest.
 */
export class BearerAuth {
  readonly #digest: Buffer;

  constructor(token: string) {
    if (token.length === 0) throw new RangeError('BearerAuth: the token must not be empty');
    this.#digest = digest(token);
  }

  /** Whether an Authorization header value (as node:http gives it) presents the token. */
  authorizes(header: string | readonly string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    // RFC 6750: the scheme is case-insensitive; one or more spaces before the token.
    const match = /^bearer +(\S+) *$/i.exec(header);
    return match !== null && timingSafeEqual(digest(match[1] as string), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
