/**
 * Domain errors of the UDP netlayer. They extend the layer's base class
 * (netlayers/errors.ts) so callers branch on one hierarchy and a stable
 * `code`; they live here only because that file belongs to the shared
 * netlayer contract, and can move there unchanged.
 */
import { NetlayerError } from "../errors.ts";

/** The peer sent nothing authentic for the silent-peer deadline. */
export class PeerSilentError extends NetlayerError {
  readonly code = "OCAPN_UDP_PEER_SILENT";
  constructor(silentMs: number) {
    super(`Peer was silent for "${Math.round(silentMs)}" ms`);
    this.name = "PeerSilentError";
  }
}

/** The session closed (locally or by failure) before the message was acked. */
export class SessionClosedError extends NetlayerError {
  readonly code = "OCAPN_UDP_SESSION_CLOSED";
  constructor(reason: string) {
    super(`Session closed: "${reason}"`);
    this.name = "SessionClosedError";
  }
}

/** The handshake went unanswered (or unconfirmed) until its deadline. */
export class HandshakeTimeoutError extends NetlayerError {
  readonly code = "OCAPN_UDP_HANDSHAKE_TIMEOUT";
  constructor(message: string) {
    super(message);
    this.name = "HandshakeTimeoutError";
  }
}

/** The endpoint was closed before the operation could finish. */
export class EndpointClosedError extends NetlayerError {
  readonly code = "OCAPN_UDP_ENDPOINT_CLOSED";
  constructor() {
    super("UDP endpoint is closed");
    this.name = "EndpointClosedError";
  }
}
