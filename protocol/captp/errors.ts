/**
 * Domain errors of the CapTP session layer, declared in one place
 * (STYLE.md "Errors"): each class has a stable `code`; never reuse or
 * rename one. Codes survive message rewording, so callers and tests match
 * on `code`, not on text.
 */

/** Base class of every CapTP-layer domain error. */
export abstract class CapTPError extends Error {
  abstract readonly code: string;
}

/**
 * The peer broke the protocol (an unknown operation, a descriptor naming a
 * position that does not exist, a bad handshake). The session answers with
 * op:abort carrying this message and closes; other sessions carry on.
 */
export class ProtocolViolationError extends CapTPError {
  readonly code = "CAPTP_PROTOCOL_VIOLATION";
  constructor(message: string) {
    super(message);
    this.name = "ProtocolViolationError";
  }
}

/**
 * The session is gone (op:abort either way, the connection closed, or the
 * handshake failed): every unresolved promise of the session breaks with
 * this, and every later send on its references rejects with it at once.
 */
export class SessionSeveredError extends CapTPError {
  readonly code = "CAPTP_SESSION_SEVERED";
  readonly reason: string;
  constructor(reason: string) {
    super(`Session severed: ${reason}`);
    this.name = "SessionSeveredError";
    this.reason = reason;
  }
}

/** `fetch` on the bootstrap object named a swiss number nobody published. */
export class UnknownSwissNumberError extends CapTPError {
  readonly code = "CAPTP_UNKNOWN_SWISS_NUMBER";
  constructor() {
    // The swiss number is a secret: never echo it.
    super("No object is published under that swiss number");
    this.name = "UnknownSwissNumberError";
  }
}

/** A feature whose seam exists but which a later issue implements. */
export class NotImplementedError extends CapTPError {
  readonly code = "CAPTP_NOT_IMPLEMENTED";
  constructor(what: string) {
    super(`Not implemented yet: ${what}`);
    this.name = "NotImplementedError";
  }
}

/** Why a third-party handoff failed; stable, so tests and callers match it. */
export type HandoffFailure =
  | "malformed-certificate"
  | "unknown-gifter-session"
  | "gifter-side-mismatch"
  | "bad-give-signature"
  | "bad-receive-signature"
  | "receiving-session-mismatch"
  | "handoff-count-reused"
  | "gift-never-deposited"
  | "gift-already-withdrawn"
  | "gift-already-deposited"
  | "receiver-key-mismatch"
  | "exporter-unreachable"
  | "session-closed";

/**
 * A third-party handoff failed (shared/ocapn-notes.md "Third-party
 * handoffs"): the receiver's promise breaks with this, naming the cause.
 * Its message crosses the wire (it says nothing secret), so a receiver
 * learns why the exporter refused.
 */
export class HandoffError extends CapTPError {
  readonly code = "CAPTP_HANDOFF_FAILED";
  readonly failure: HandoffFailure;
  constructor(failure: HandoffFailure, message: string) {
    super(`Handoff failed (${failure}): ${message}`);
    this.name = "HandoffError";
    this.failure = failure;
  }
}
