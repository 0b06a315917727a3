/**
 * Handshake datagrams of the UDP netlayer (README "UDP netlayer"; OCapN's
 * drafts define no UDP transport): wire.ts types 1-3, carrying the same
 * Noise handshakes as noise-tcp (netlayers/noise/peer_handshake.ts: IK when
 * the dialer knows the peer's key, XX when not) and WireGuard-style cookies
 * (netlayers/noise/cookie.ts). All integers are big-endian.
 *
 * Initiation (type 1), always 169 bytes:
 *
 *   offset size field
 *   0      1    type = 1
 *   1      3    reserved, zero
 *   4      4    sender session hashcode (the initiator's registry code)
 *   8      1    Noise kind: 1 = IK, 2 = XX
 *   9      128  Noise message 1 (IK: 128 bytes; XX: 32 bytes, then zeros)
 *   137    16   mac1 over bytes 0..137 (key from the responder's static key;
 *               for XX, whose dialer knows no key, from 32 zero bytes)
 *   153    16   mac2 over bytes 0..153 under a cookie, or zeros
 *
 * XX initiations are padded to the IK size so that no answer (at most 140
 * bytes) is larger than the datagram that caused it: a spoofed initiation
 * cannot make the responder amplify traffic toward a victim.
 *
 * Response and confirmation (type 2), 12-byte header:
 *
 *   0      1    type = 2
 *   1      3    reserved, zero
 *   4      4    receiver session hashcode (where wire.ts routing expects it)
 *   8      4    sender session hashcode
 *   12     n    responder -> initiator: Noise message 2 (IK 48, XX 128 bytes)
 *               initiator -> responder: XX message 3 (96 bytes; none for IK),
 *               then a 65-byte Noise transport record sealing
 *               secret (32) || initiator code (4) || responder code (4)
 *
 * Cookie reply (type 3), 52 bytes: type, 3 reserved, receiver session
 * hashcode (the initiator's, copied from the initiation), then cookie.ts's
 * reply (12-byte nonce, sealed 16-byte cookie, 16-byte tag).
 *
 * Three flights, not two: the initiator's record in the confirmation proves
 * it holds the ephemeral secret behind its initiation, so a replayed
 * initiation (whose sender cannot make that record) never yields a session,
 * and the secret it carries, fresh from the initiator's RNG, becomes the
 * per-peer data keys through HMAC-SHA256 keyed by it over a direction label
 * and the Noise handshake hash. The data plane needs raw keys, and the
 * Noise transport keeps its keys private; sending a secret under it costs
 * no extra round trip, as the confirmation must go anyway (XX's message 3).
 * The codes inside the record authenticate the header's plaintext codes.
 * The two roles live in handshake_roles.ts.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import {
  CookieResponder,
  type CookieVerdict,
  MACS_LENGTH,
} from "../noise/cookie.ts";
import {
  KIND_IK,
  KIND_XX,
  type NoiseIdentity,
} from "../noise/peer_handshake.ts";
import { DatagramType } from "./wire.ts";

export const INITIATION_LENGTH = 169;
export const INITIATION_BODY = INITIATION_LENGTH - MACS_LENGTH;
export const RESPONSE_HEADER_LENGTH = 12;
export const COOKIE_DATAGRAM_LENGTH = 52;
export const RECORD_LENGTH = 9 + 40 + 16;
export const NOISE_1 = { [KIND_IK]: 129, [KIND_XX]: 33 } as Record<
  number,
  number
>;
export const NOISE_2 = { [KIND_IK]: 48, [KIND_XX]: 128 } as Record<
  number,
  number
>;
export const NOISE_3 = { [KIND_IK]: 0, [KIND_XX]: 96 } as Record<
  number,
  number
>;
const encoder = new TextEncoder();
/** Bound into every UDP handshake, so none is valid on another transport. */
export const UDP_PROLOGUE = encoder.encode("ocapn-udp-1");
export const ANONYMOUS_KEY = new Uint8Array(32);
const I2R = encoder.encode("ocapn-udp i2r");
const R2I = encoder.encode("ocapn-udp r2i");

/** Per-direction ChaCha20-Poly1305 keys for a UdpChannel. */
export interface DataKeys {
  readonly send: Uint8Array;
  readonly receive: Uint8Array;
}

export function deriveDataKeys(
  crypto: CryptoProvider,
  secret: Uint8Array,
  options: { handshakeHash: Uint8Array; initiator: boolean },
): DataKeys {
  const key = (label: Uint8Array) =>
    crypto.hmac("sha256", secret, concat(label, options.handshakeHash));
  const i2r = key(I2R);
  const r2i = key(R2I);
  return options.initiator
    ? { send: i2r, receive: r2i }
    : { send: r2i, receive: i2r };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function header(type: number, codes: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * codes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type << 24);
  codes.forEach((code, i) => view.setUint32(4 + 4 * i, code));
  return out;
}

export function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at);
}

/** The responder's session code in a type-2 datagram (bytes 8..12). */
export function peekSender(datagram: Uint8Array): number {
  return u32(datagram, 8);
}

/** The initiator's key material for the dedupe set: kind and ephemeral. */
export function initiationId(datagram: Uint8Array): string {
  let id = "";
  for (let i = 8; i < 41; i++) id += datagram[i].toString(16).padStart(2, "0");
  return id;
}

/** Cheap shape check of a type-1 datagram: no MAC, no crypto. */
export function isInitiation(datagram: Uint8Array): boolean {
  return datagram.length === INITIATION_LENGTH &&
    datagram[0] === DatagramType.handshakeInitiation &&
    NOISE_1[datagram[8]] !== undefined;
}

export function cookieDatagram(receiver: number, reply: Uint8Array) {
  return concat(header(DatagramType.cookieReply, [receiver]), reply);
}

/**
 * mac1 before anything else, then cookies under load. IK and XX
 * initiations have different mac1 keys, so there is one CookieResponder per
 * key; both see one load figure.
 */
export class InitiationGate {
  /**
   * Whether the last `check` demanded a cookie, so an initiation it
   * accepted came from an address that proved it receives there.
   */
  cookiesDemanded = false;
  #keyed: CookieResponder;
  #anonymous: CookieResponder;

  constructor(
    crypto: CryptoProvider,
    options: { clock: Clock; identity: NoiseIdentity; loadRate: number },
  ) {
    const make = (staticPublicKey: Uint8Array) =>
      new CookieResponder(crypto, {
        staticPublicKey,
        clock: options.clock,
        loadThreshold: options.loadRate,
      });
    this.#keyed = make(options.identity.x25519.publicKey);
    this.#anonymous = make(ANONYMOUS_KEY);
  }

  check(datagram: Uint8Array, address: string, loaded: boolean): CookieVerdict {
    const k = this.#keyed;
    const a = this.#anonymous;
    k.forceUnderLoad = a.forceUnderLoad = false;
    k.forceUnderLoad = a.forceUnderLoad = loaded || k.underLoad || a.underLoad;
    this.cookiesDemanded = k.forceUnderLoad;
    return (datagram[8] === KIND_XX ? a : k).check(datagram, address);
  }
}
