/**
 * Handoff certificates (CapTP draft, "Third-party handoffs",
 * desc:handoff-give, desc:handoff-receive, desc:sig-envelope;
 * shared/ocapn-notes.md "Third-party handoffs"): building and signing them,
 * reading them from the wire, and the exporter's checks in the notes' order.
 *
 * Why it exists: the three roles share these byte-exact forms, and the
 * exporter's checks are the whole security of a handoff, so they live in
 * one pure place that a test can drive one certificate at a time.
 */

import type { CryptoProvider } from "../crypto.ts";
import { encode } from "../syrup/encode.ts";
import { SyrupRecord, type SyrupValue } from "../syrup/value.ts";
import { quote } from "../errors.ts";
import { HandoffError, type HandoffFailure } from "./errors.ts";
import * as keys from "./keys.ts";

const SIG_ENVELOPE = Symbol.for("desc:sig-envelope");
const HANDOFF_GIVE = Symbol.for("desc:handoff-give");
const HANDOFF_RECEIVE = Symbol.for("desc:handoff-receive");

/** What the exporter's checks need to know of a session. */
export interface HandoffSessionView {
  readonly id: Uint8Array | undefined;
  readonly localSideId: Uint8Array;
  readonly peerSideId: Uint8Array | undefined;
  readonly peerPublicKey: Uint8Array | undefined;
}

export interface HandoffGive {
  /** The receiver's public key in the gifter-receiver session. */
  readonly receiverKey: Uint8Array;
  /** The exporter's `<ocapn-peer ...>`, kept as it came (hints included). */
  readonly exporterLocation: SyrupValue;
  /** The gifter-exporter session ID. */
  readonly session: Uint8Array;
  /** The gifter's public ID in that session. */
  readonly gifterSide: Uint8Array;
  readonly giftId: SyrupValue;
}

export interface HandoffReceive {
  readonly receivingSession: Uint8Array;
  readonly receivingSide: Uint8Array;
  readonly handoffCount: bigint;
  /** The signed give, the envelope record exactly as received. */
  readonly signedGive: SyrupRecord;
}

/** A certificate and the signature over syrup(certificate). */
export interface Signed<T> {
  readonly envelope: SyrupRecord;
  readonly certificate: SyrupRecord;
  readonly fields: T;
  readonly signature: Uint8Array;
}

/**
 * A signed certificate carried as data: withdraw-gift's argument on both
 * sides (the engine passes it through unchanged instead of enlivening it).
 */
export class SignedCertificate {
  constructor(readonly envelope: SyrupRecord) {
    Object.freeze(this);
  }
}

const fail = (failure: HandoffFailure, message: string): never => {
  throw new HandoffError(failure, message);
};

export function makeGive(give: HandoffGive): SyrupRecord {
  return new SyrupRecord(HANDOFF_GIVE, [
    keys.publicKeyToSyrup(give.receiverKey),
    give.exporterLocation,
    give.session,
    give.gifterSide,
    give.giftId,
  ]);
}

export function makeReceive(receive: HandoffReceive): SyrupRecord {
  return new SyrupRecord(HANDOFF_RECEIVE, [
    receive.receivingSession,
    receive.receivingSide,
    receive.handoffCount,
    receive.signedGive,
  ]);
}

/** `<desc:sig-envelope certificate sig>`, `sign` covering syrup(certificate). */
export function signEnvelope(
  certificate: SyrupRecord,
  sign: (bytes: Uint8Array) => Uint8Array,
): SyrupRecord {
  const signature = keys.signatureToSyrup(sign(encode(certificate)));
  return new SyrupRecord(SIG_ENVELOPE, [certificate, signature]);
}

/** Whether `value` is a sig-envelope around a record labelled `label`. */
export function envelopeOf(
  value: unknown,
): "desc:handoff-give" | "desc:handoff-receive" | undefined {
  if (!(value instanceof SyrupRecord) || value.label !== SIG_ENVELOPE) {
    return undefined;
  }
  const inner = value.fields[0];
  if (!(inner instanceof SyrupRecord)) return undefined;
  if (inner.label === HANDOFF_GIVE) return "desc:handoff-give";
  if (inner.label === HANDOFF_RECEIVE) return "desc:handoff-receive";
  return undefined;
}

const isBytes = (v: unknown, n?: number): v is Uint8Array =>
  v instanceof Uint8Array && (n === undefined || v.length === n);

function readEnvelope(
  value: unknown,
  label: symbol,
  arity: number,
): { envelope: SyrupRecord; certificate: SyrupRecord; signature: Uint8Array } {
  if (value instanceof SignedCertificate) value = value.envelope;
  const name = typeof label === "symbol" ? Symbol.keyFor(label) : "";
  if (
    !(value instanceof SyrupRecord) || value.label !== SIG_ENVELOPE ||
    value.fields.length !== 2
  ) {
    return fail("malformed-certificate", `expected a signed ${name}`);
  }
  const certificate = value.fields[0];
  if (
    !(certificate instanceof SyrupRecord) || certificate.label !== label ||
    certificate.fields.length !== arity
  ) {
    return fail("malformed-certificate", `expected a signed ${name}`);
  }
  let signature: Uint8Array;
  try {
    signature = keys.signatureFromSyrup(value.fields[1]);
  } catch {
    return fail("malformed-certificate", `${name} has a malformed signature`);
  }
  return { envelope: value, certificate, signature };
}

/** Reads a signed desc:handoff-give; HandoffError for any other shape. */
export function readSignedGive(value: unknown): Signed<HandoffGive> {
  const read = readEnvelope(value, HANDOFF_GIVE, 5);
  const [key, location, session, gifterSide, giftId] = read.certificate.fields;
  let receiverKey: Uint8Array;
  try {
    receiverKey = keys.publicKeyFromSyrup(key);
  } catch {
    return fail("malformed-certificate", "receiver-key is not a public key");
  }
  if (
    !(location instanceof SyrupRecord) ||
    Symbol.keyFor(location.label as symbol) !== "ocapn-peer"
  ) {
    return fail(
      "malformed-certificate",
      `exporter-location is not an ocapn-peer: ${quote(location)}`,
    );
  }
  if (!isBytes(session, 32) || !isBytes(gifterSide, 32)) {
    return fail(
      "malformed-certificate",
      "session and gifter-side must be 32 bytes",
    );
  }
  if (!isBytes(giftId) && typeof giftId !== "string") {
    return fail("malformed-certificate", `bad gift-id ${quote(giftId)}`);
  }
  return {
    ...read,
    fields: {
      receiverKey,
      exporterLocation: location,
      session,
      gifterSide,
      giftId,
    },
  };
}

/** Reads a signed desc:handoff-receive and the signed give inside it. */
export function readSignedReceive(
  value: unknown,
): Signed<HandoffReceive> & { give: Signed<HandoffGive> } {
  const read = readEnvelope(value, HANDOFF_RECEIVE, 4);
  const [receivingSession, receivingSide, count, signedGive] =
    read.certificate.fields;
  if (!isBytes(receivingSession, 32) || !isBytes(receivingSide, 32)) {
    return fail(
      "malformed-certificate",
      "receiving-session and receiving-side must be 32 bytes",
    );
  }
  if (typeof count !== "bigint" || count < 0n) {
    return fail("malformed-certificate", `bad handoff-count ${quote(count)}`);
  }
  const give = readSignedGive(signedGive);
  return {
    ...read,
    give,
    fields: {
      receivingSession,
      receivingSide,
      handoffCount: count,
      signedGive: give.envelope,
    },
  };
}

const equal = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
  a !== undefined && keys.compareBytes(a, b) === 0;

export interface WithdrawChecks {
  crypto: CryptoProvider;
  /** The open session with this session ID, if any. */
  findSession(id: Uint8Array): HandoffSessionView | undefined;
  /** Whether this handoff-count was already used in the receiving session. */
  countUsed(count: bigint): boolean;
}

/**
 * The exporter's checks on a withdraw-gift that arrived on `session` (the
 * receiver-exporter session), in the notes' order: the certificates' shape;
 * the gifter-exporter session is known; the gifter-side is the gifter's ID
 * there; the gifter's signature on the give; the receiver's signature on
 * the receive (with receiver-key from the give); the receive names this
 * session and the receiver's side in it; the handoff-count is fresh.
 * Returns the checked certificates; HandoffError naming the first failure.
 */
export function checkWithdraw(
  signedReceive: unknown,
  session: HandoffSessionView,
  checks: WithdrawChecks,
): Signed<HandoffReceive> & { give: Signed<HandoffGive> } {
  const receive = readSignedReceive(signedReceive);
  const give = receive.give;
  const gifter = checks.findSession(give.fields.session);
  if (gifter === undefined || gifter.peerPublicKey === undefined) {
    fail("unknown-gifter-session", "no open session has that session ID");
  }
  if (!equal(gifter!.peerSideId, give.fields.gifterSide)) {
    fail("gifter-side-mismatch", "gifter-side is not the gifter's side ID");
  }
  if (
    !checks.crypto.ed25519.verify(
      gifter!.peerPublicKey!,
      encode(give.certificate),
      give.signature,
    )
  ) fail("bad-give-signature", "the gifter's signature does not verify");
  if (
    !checks.crypto.ed25519.verify(
      give.fields.receiverKey,
      encode(receive.certificate),
      receive.signature,
    )
  ) {
    fail(
      "bad-receive-signature",
      "the receive is not signed by the give's receiver-key",
    );
  }
  if (
    !equal(session.id, receive.fields.receivingSession) ||
    !equal(session.peerSideId, receive.fields.receivingSide)
  ) {
    fail(
      "receiving-session-mismatch",
      "the receive names another session or side",
    );
  }
  if (checks.countUsed(receive.fields.handoffCount)) {
    fail(
      "handoff-count-reused",
      `handoff-count ${receive.fields.handoffCount} was already used`,
    );
  }
  return receive;
}

/** A stable map key for (gifter-exporter session ID, gift id). */
export function giftKey(session: Uint8Array, giftId: SyrupValue): string {
  let key = "";
  for (const b of session) key += b.toString(16).padStart(2, "0");
  key += ":";
  for (const b of encode(giftId)) key += b.toString(16).padStart(2, "0");
  return key;
}
