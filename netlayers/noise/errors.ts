/**
 * The Noise layer's one error class. Every condition a caller (the encrypted
 * netlayer) branches on carries a stable `code`; any NoiseError on a live
 * session means the connection closes.
 */
export type NoiseErrorCode =
  /** An AEAD tag did not verify: tampered bytes or the wrong keys. */
  | "decrypt-failed"
  /** A transport record's counter is one already received. */
  | "replay"
  /** A transport record's counter skips ahead of the next expected. */
  | "reorder"
  /** A message arrived that the handshake pattern does not expect now. */
  | "unexpected-message"
  /** A handshake or transport message is too short or too long. */
  | "bad-length"
  /** A peer's ephemeral or static key is of low order (an all-zero DH). */
  | "bad-key"
  /** The peer's static key does not belong to the identity it claims. */
  | "identity-mismatch"
  /** The 2^64 - 1 nonce space (or our safe-integer cap) is used up. */
  | "nonce-exhausted"
  /** The session was closed and its keys zeroed. */
  | "closed"
  /** The handshake did not finish before its deadline. */
  | "timeout";

export class NoiseError extends Error {
  readonly code: NoiseErrorCode;
  constructor(code: NoiseErrorCode, message: string) {
    super(message);
    this.name = "NoiseError";
    this.code = code;
  }
}
