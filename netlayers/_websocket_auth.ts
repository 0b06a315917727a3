/**
 * The websocket netlayer's designator proof: the one in-band exchange that
 * runs before any CapTP byte (OCapN issue 150; Goblins
 * `goblins/ocapn/netlayer/websocket.scm`, Endo
 * `packages/ocapn/src/netlayers/websocket.js` lines 22-39).
 *
 *   client -> server   <init:peer-auth <32 random bytes>>
 *   server -> client   <desc:sig-envelope <init:peer-auth ...> sig>
 *
 * `sig` is the CapTP signature form `[sig-val [eddsa [r <32>] [s <32>]]]`
 * (Endo codecs/components.js lines 69-104) made with the server's
 * designator key over the challenge frame's bytes exactly as received
 * (Endo websocket.js lines 459-463). Only the server proves who it is; the
 * client stays anonymous here and is named later by op:start-session.
 *
 * Why a record and not raw bytes: Goblins up to v0.17 signed 64 raw random
 * bytes (websocket.scm, `verify-designator` in both `^listener` and
 * `open-websocket`), which made every server a signing oracle; v0.18 and
 * Endo sign only a typed `init:peer-auth` record, and Endo's CI runs that
 * form against Goblins. The raw form is not supported.
 *
 * Pure: no sockets, no timers, no Deno APIs, so a browser client can use it.
 */

import type { CryptoProvider, KeyPair } from "../protocol/crypto.ts";
import { decode } from "../protocol/syrup/decode.ts";
import { encode } from "../protocol/syrup/encode.ts";
import { labelOf, record, SyrupRecord } from "../protocol/syrup/value.ts";
import { decodeBase32, encodeBase32 } from "../protocol/base32.ts";
import {
  signatureFromSyrup,
  signatureToSyrup,
} from "../protocol/captp/keys.ts";
import { NetlayerError } from "./errors.ts";

export const WEBSOCKET_TRANSPORT = "websocket";

/** Endo sends 32 bytes (websocket.js line 42); we send the same. */
export const CHALLENGE_PAYLOAD_BYTES = 32;

/**
 * Neither reference bounds the challenge or its answer; ours is an addition
 * so that a peer cannot make us decode or sign a large frame before it has
 * been authenticated. A 32-byte challenge encodes to 53 bytes, its answer
 * to about 200.
 */
export const MAX_HANDSHAKE_FRAME = 1024;
/** A shorter challenge would let a peer replay an old answer (our bound). */
const MIN_CHALLENGE_PAYLOAD = 16;

const PEER_AUTH = "init:peer-auth";
const SIG_ENVELOPE = "desc:sig-envelope";
const decodeLimits = { maxLength: MAX_HANDSHAKE_FRAME, maxDepth: 8 };

/**
 * The designator proof failed: the server answered with something that is
 * not a signed envelope, or signed with a key other than the one the
 * locator names (someone else answers at that URL). Lives here rather than
 * in errors.ts only because that file belongs to the shared contract; it
 * can move there unchanged.
 */
export class PeerAuthError extends NetlayerError {
  readonly code = "OCAPN_WEBSOCKET_PEER_AUTH_FAILED";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerAuthError";
  }
}

/** The designator that names `publicKey`: lowercase unpadded base32. */
export function designatorFor(publicKey: Uint8Array): string {
  return encodeBase32(publicKey);
}

/**
 * The Ed25519 key a designator names.
 * @throws {TypeError} when it is not the base32 of 32 bytes (a bad locator)
 */
export function designatorKey(designator: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = decodeBase32(designator);
  } catch (error) {
    throw new TypeError(
      `Designator is not lowercase base32: "${designator}"`,
      { cause: error },
    );
  }
  if (key.length !== 32) {
    throw new TypeError(
      `Designator is not a 32-byte Ed25519 key: "${designator}"`,
    );
  }
  return key;
}

/** A fresh challenge: the frame the client sends, whose bytes the server signs. */
export function makeChallenge(crypto: CryptoProvider): Uint8Array {
  return encode(
    record(PEER_AUTH, crypto.randomBytes(CHALLENGE_PAYLOAD_BYTES)),
  );
}

/**
 * The server's side: check `frame` is an `init:peer-auth` record and return
 * the envelope frame that answers it.
 * @throws {SyntaxError} when the frame is not Syrup, or too long
 * @throws {TypeError} when it is Syrup but not a challenge
 */
export function answerChallenge(
  frame: Uint8Array,
  options: { crypto: CryptoProvider; identity: KeyPair },
): Uint8Array {
  if (frame.length > MAX_HANDSHAKE_FRAME) {
    throw new SyntaxError(
      `Challenge of ${frame.length} bytes exceeds ${MAX_HANDSHAKE_FRAME} at byte 0`,
    );
  }
  const challenge = decode(frame, decodeLimits);
  const payload = challenge instanceof SyrupRecord &&
      labelOf(challenge) === PEER_AUTH && challenge.fields.length === 1
    ? challenge.fields[0]
    : undefined;
  if (
    !(payload instanceof Uint8Array) ||
    payload.length < MIN_CHALLENGE_PAYLOAD
  ) {
    throw new TypeError(
      `First frame is not <${PEER_AUTH} bytes> with at least ${MIN_CHALLENGE_PAYLOAD} bytes`,
    );
  }
  // Signed verbatim, as Endo does; the decoder accepts only canonical
  // Syrup, so these are also the bytes a re-encoding would give.
  const sig = options.crypto.ed25519.sign(options.identity.secretKey, frame);
  return encode(record(SIG_ENVELOPE, challenge, signatureToSyrup(sig)));
}

/**
 * The client's side: check that `frame` is the envelope answering
 * `challenge`, signed by `publicKey`.
 * @throws {PeerAuthError} for anything else
 */
export function verifyAnswer(
  frame: ArrayBuffer | string | Blob,
  options: {
    crypto: CryptoProvider;
    challenge: Uint8Array;
    publicKey: Uint8Array;
  },
): void {
  if (!(frame instanceof ArrayBuffer)) {
    throw new PeerAuthError("Peer answered the challenge with a text frame");
  }
  let envelope;
  try {
    envelope = decode(new Uint8Array(frame), decodeLimits);
  } catch (error) {
    throw new PeerAuthError("Peer answered the challenge with bad Syrup", {
      cause: error,
    });
  }
  if (
    !(envelope instanceof SyrupRecord) || labelOf(envelope) !== SIG_ENVELOPE ||
    envelope.fields.length !== 2 || labelOf(envelope.fields[0]) !== PEER_AUTH
  ) {
    throw new PeerAuthError(
      `Peer answered the challenge with something other than <${SIG_ENVELOPE} <${PEER_AUTH} ...> sig>`,
    );
  }
  let sig: Uint8Array;
  try {
    sig = signatureFromSyrup(envelope.fields[1]);
  } catch (error) {
    throw new PeerAuthError("Peer's envelope holds no eddsa sig-val", {
      cause: error,
    });
  }
  const { crypto, challenge, publicKey } = options;
  if (!crypto.ed25519.verify(publicKey, challenge, sig)) {
    throw new PeerAuthError(
      `Peer did not prove designator "${designatorFor(publicKey)}"`,
    );
  }
}

/**
 * `identity` checked, or a fresh one.
 * @throws {TypeError} when its public key does not match its secret key
 */
export function checkIdentity(
  crypto: CryptoProvider,
  identity: KeyPair | undefined,
): { identity: KeyPair; generated: boolean } {
  if (!identity) {
    return { identity: crypto.ed25519.generateKeyPair(), generated: true };
  }
  const { secretKey, publicKey } = identity;
  if (
    !(secretKey instanceof Uint8Array) || secretKey.length !== 32 ||
    !(publicKey instanceof Uint8Array) || publicKey.length !== 32
  ) {
    throw new TypeError("Identity keys must be 32-byte Uint8Arrays");
  }
  const derived = crypto.ed25519.publicKey(secretKey);
  if (!derived.every((b, i) => b === publicKey[i])) {
    throw new TypeError(
      `Identity public key does not match its secret key: "${
        designatorFor(publicKey)
      }"`,
    );
  }
  return { identity, generated: false };
}
