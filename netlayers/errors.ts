/**
 * Domain errors of the netlayer layer, declared in one place.
 *
 * STYLE.md "Errors": caller mistakes (a locator for another transport, a
 * message over the size limit) are TypeError / RangeError, and bytes that do
 * not decode arrive as the decoder's SyntaxError. The classes here are the
 * conditions a caller catches and acts on: a dial that failed and a
 * connection that ended. Each has a stable `code`; never reuse or rename one.
 */

/** Base class: every netlayer domain error has a stable `code`. */
export abstract class NetlayerError extends Error {
  abstract readonly code: string;
}

/** Dialling a peer failed: nothing listens there, or the peer is unknown. */
export class ConnectFailedError extends NetlayerError {
  readonly code = "OCAPN_NETLAYER_CONNECT_FAILED";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectFailedError";
  }
}

/**
 * The connection ended without a local `close()`: the peer closed it, the
 * transport broke, or fault injection severed it. Carried as the close reason.
 */
export class ConnectionClosedError extends NetlayerError {
  readonly code = "OCAPN_NETLAYER_CLOSED";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }
}
