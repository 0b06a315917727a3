/**
 * Session keys and the identities derived from them (CapTP draft,
 * "op:start-session" and "Session IDs"; shared/ocapn-notes.md "Crypto per
 * session").
 *
 * Why it exists: both the handshake and (later) third-party handoffs sign
 * and identify with the same Syrup forms, and every byte of them must match
 * what Goblins, Endo and the test suite compute, so they live in one place.
 * All crypto goes through the injected CryptoProvider.
 */

import type { CryptoProvider, KeyPair } from "../crypto.ts";
import { encode } from "../syrup/encode.ts";
import { SyrupRecord, type SyrupValue } from "../syrup/value.ts";
import { quote } from "../errors.ts";
import { ProtocolViolationError } from "./errors.ts";

const s = (name: string) => Symbol.for(name);
const PUBLIC_KEY = s("public-key");
const ECC = s("ecc");
const CURVE = s("curve");
const ED25519 = s("Ed25519");
const FLAGS = s("flags");
const EDDSA = s("eddsa");
const Q = s("q");
const SIG_VAL = s("sig-val");
const R = s("r");
const S = s("s");
const MY_LOCATION = s("my-location");
const PROT0 = new TextEncoder().encode("prot0");

/** `[public-key [ecc [curve Ed25519] [flags eddsa] [q <32 bytes>]]]`: a list, not a record. */
export function publicKeyToSyrup(key: Uint8Array): SyrupValue {
  return [PUBLIC_KEY, [ECC, [CURVE, ED25519], [FLAGS, EDDSA], [Q, key]]];
}

function isPair(value: SyrupValue, head: symbol): value is SyrupValue[] {
  return Array.isArray(value) && value.length === 2 && value[0] === head;
}

/** The 32 key bytes of a Syrup public key; ProtocolViolationError otherwise. */
export function publicKeyFromSyrup(value: SyrupValue): Uint8Array {
  const bad = () =>
    new ProtocolViolationError(
      `session-pubkey is not an Ed25519 public key: ${quote(value)}`,
    );
  if (!isPair(value, PUBLIC_KEY)) throw bad();
  const ecc = value[1];
  if (
    !Array.isArray(ecc) || ecc.length !== 4 || ecc[0] !== ECC ||
    !isPair(ecc[1], CURVE) || ecc[1][1] !== ED25519 ||
    !isPair(ecc[2], FLAGS) || ecc[2][1] !== EDDSA || !isPair(ecc[3], Q)
  ) throw bad();
  const q = ecc[3][1];
  if (!(q instanceof Uint8Array) || q.length !== 32) throw bad();
  return q;
}

/** `[sig-val [eddsa [r <32>] [s <32>]]]` from a 64-byte signature. */
export function signatureToSyrup(sig: Uint8Array): SyrupValue {
  if (sig.length !== 64) {
    throw new RangeError(`Signature must be 64 bytes, got ${sig.length}`);
  }
  return [SIG_VAL, [EDDSA, [R, sig.slice(0, 32)], [S, sig.slice(32)]]];
}

/** The 64 signature bytes; ProtocolViolationError for any other shape. */
export function signatureFromSyrup(value: SyrupValue): Uint8Array {
  const bad = () =>
    new ProtocolViolationError(
      `signature is not an eddsa sig-val: ${quote(value)}`,
    );
  if (!isPair(value, SIG_VAL)) throw bad();
  const body = value[1];
  if (
    !Array.isArray(body) || body.length !== 3 || body[0] !== EDDSA ||
    !isPair(body[1], R) || !isPair(body[2], S)
  ) throw bad();
  const [r, sv] = [body[1][1], body[2][1]];
  if (
    !(r instanceof Uint8Array) || !(sv instanceof Uint8Array) ||
    r.length !== 32 || sv.length !== 32
  ) throw bad();
  const out = new Uint8Array(64);
  out.set(r);
  out.set(sv, 32);
  return out;
}

/** Public ID = sha256(sha256(syrup(public-key))). */
export function publicId(crypto: CryptoProvider, key: Uint8Array): Uint8Array {
  const once = crypto.hash("sha256", encode(publicKeyToSyrup(key)));
  return crypto.hash("sha256", once);
}

/** Bytewise order, a proper prefix first; the ID and crossed-hellos rule. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Session ID = sha256(sha256("prot0" + the two public IDs sorted bytewise)). */
export function sessionId(
  crypto: CryptoProvider,
  ids: [Uint8Array, Uint8Array],
): Uint8Array {
  const [lo, hi] = compareBytes(ids[0], ids[1]) <= 0 ? ids : [ids[1], ids[0]];
  const input = new Uint8Array(PROT0.length + lo.length + hi.length);
  input.set(PROT0);
  input.set(lo, PROT0.length);
  input.set(hi, PROT0.length + lo.length);
  return crypto.hash("sha256", crypto.hash("sha256", input));
}

/**
 * What the location signature covers: syrup(<my-location <ocapn-peer ...>>).
 * The draft prose says "the serialized location"; the suite, Goblins and
 * Endo all wrap it in my-location, and that is what interoperates.
 */
export function locationSigPayload(location: SyrupValue): Uint8Array {
  return encode(new SyrupRecord(MY_LOCATION, [location]));
}

/** A fresh key pair and our half of op:start-session. */
export function makeSessionKeys(
  crypto: CryptoProvider,
  location: SyrupValue,
): { keys: KeyPair; pubkey: SyrupValue; signature: SyrupValue } {
  const keys = crypto.ed25519.generateKeyPair();
  const sig = crypto.ed25519.sign(keys.secretKey, locationSigPayload(location));
  return {
    keys,
    pubkey: publicKeyToSyrup(keys.publicKey),
    signature: signatureToSyrup(sig),
  };
}

/** Checks the peer's location signature; false when it does not verify. */
export function verifyLocation(
  crypto: CryptoProvider,
  key: Uint8Array,
  options: { location: SyrupValue; signature: Uint8Array },
): boolean {
  return crypto.ed25519.verify(
    key,
    locationSigPayload(options.location),
    options.signature,
  );
}
