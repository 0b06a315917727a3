/**
 * Denial-of-service cookies after WireGuard (Donenfeld, NDSS 2017, section
 * 5.4.4 and 5.4.7), for Noise handshake initiations:
 *
 * - every initiation carries mac1 = MAC(HASH("mac1----" || responder static),
 *   message). The responder checks it before any public-key work, so only
 *   someone who knows the responder's key can make it spend a DH;
 * - under load the responder answers with a cookie reply instead of working:
 *   cookie = MAC(secret, initiator address), the secret rotating every two
 *   minutes by the injected Clock, sealed to the initiator under a key from
 *   the responder's static key with mac1 as associated data. The responder
 *   stores nothing per initiator;
 * - the initiator resends with mac2 = MAC(cookie, message || mac1), which
 *   proves it can receive at its address; only then does it cost a DH.
 *
 * Deliberate deviations: MAC is BLAKE2s(key || message) truncated to 16 bytes
 * (a prefix-keyed BLAKE2 is a sound MAC and needs only the provider's hash,
 * where WireGuard uses BLAKE2s's keyed mode), and the cookie is sealed with
 * ChaCha20-Poly1305 under a random 96-bit nonce rather than XChaCha20.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";

export const MAC_LENGTH = 16;
/** Bytes an initiation grows by: mac1 then mac2. */
export const MACS_LENGTH = 2 * MAC_LENGTH;
export const COOKIE_REPLY_LENGTH = 12 + MAC_LENGTH + 16;
/** WireGuard's two minutes, for the secret and for a received cookie. */
export const COOKIE_LIFETIME_MS = 120_000;

const encoder = new TextEncoder();
const MAC1_LABEL = encoder.encode("mac1----");
const COOKIE_LABEL = encoder.encode("cookie--");

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** key || data for mac(), reused: an initiation is stamped and checked once each. */
let macInput = new Uint8Array(256);

function mac(c: CryptoProvider, key: Uint8Array, data: Uint8Array) {
  const length = key.length + data.length;
  if (macInput.length < length) macInput = new Uint8Array(length);
  macInput.set(key);
  macInput.set(data, key.length);
  const out = c.hash("blake2s", macInput.subarray(0, length));
  macInput.fill(0, 0, length); // the key may be a cookie
  return out.subarray(0, MAC_LENGTH);
}

/** Compares in time independent of where the first difference is. */
function equalMacs(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function isZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

interface MacKeys {
  /** A copy of the static the keys were derived from: a changed array misses. */
  readonly responderStatic: Uint8Array;
  readonly mac1Key: Uint8Array;
  readonly cookieKey: Uint8Array;
}

/**
 * Keys derived for recent responder statics, per backend: a dialer makes a
 * CookieInitiator per dial, and the static arrays it passes are shared per
 * peer (identityStatic in peer_handshake.ts). Keyed by backend name, as
 * symmetric.ts keys its initial hashes. Public data only; weak, so an entry
 * goes with its array.
 */
const derivedKeys = new Map<string, WeakMap<Uint8Array, MacKeys>>();

/** The keys both sides derive from the responder's static public key. */
function keysFor(c: CryptoProvider, responderStatic: Uint8Array): MacKeys {
  let byStatic = derivedKeys.get(c.name);
  if (byStatic === undefined) {
    byStatic = new WeakMap();
    derivedKeys.set(c.name, byStatic);
  }
  const known = byStatic.get(responderStatic);
  if (
    known !== undefined && equalMacs(known.responderStatic, responderStatic)
  ) {
    return known;
  }
  const keys = {
    responderStatic: responderStatic.slice(),
    mac1Key: c.hash("blake2s", cat(MAC1_LABEL, responderStatic)),
    cookieKey: c.hash("blake2s", cat(COOKIE_LABEL, responderStatic)),
  };
  byStatic.set(responderStatic, keys);
  return keys;
}

export type CookieVerdict =
  /** mac1 (or a presented mac2) is wrong: drop, answer nothing. */
  | { readonly verdict: "drop" }
  /** Under load without a valid mac2: send `reply`, do no work. */
  | { readonly verdict: "cookie"; readonly reply: Uint8Array }
  /** Go ahead: `message` is the initiation without its macs. */
  | { readonly verdict: "accept"; readonly message: Uint8Array };

export interface CookieResponderOptions {
  /** Our Noise static public key (X25519). */
  readonly staticPublicKey: Uint8Array;
  readonly clock: Clock;
  /** Initiations per second beyond which we demand cookies (default 1000). */
  readonly loadThreshold?: number;
}

export class CookieResponder {
  /** Set to demand cookies regardless of load (tests, operators). */
  forceUnderLoad = false;
  #crypto: CryptoProvider;
  #clock: Clock;
  #mac1Key: Uint8Array;
  #cookieKey: Uint8Array;
  #threshold: number;
  #secret: Uint8Array;
  #secretBornAt: number;
  /** The last cookie made, for a run of initiations from one address. */
  #last: { address: string; cookie: Uint8Array } | undefined;
  #windowStart: number;
  #windowCount = 0;

  constructor(crypto: CryptoProvider, options: CookieResponderOptions) {
    this.#crypto = crypto;
    this.#clock = options.clock;
    ({ mac1Key: this.#mac1Key, cookieKey: this.#cookieKey } = keysFor(
      crypto,
      options.staticPublicKey,
    ));
    this.#threshold = options.loadThreshold ?? 1000;
    this.#secret = crypto.randomBytes(32);
    this.#secretBornAt = this.#windowStart = this.#clock.now();
  }

  /** True when the recent initiation rate exceeds the threshold. */
  get underLoad(): boolean {
    return this.forceUnderLoad || this.#windowCount > this.#threshold;
  }

  /** Decides on one stamped initiation from `address`; no DH, no state. */
  check(stamped: Uint8Array, address: string): CookieVerdict {
    if (stamped.length < MACS_LENGTH) return { verdict: "drop" };
    const now = this.#clock.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    this.#windowCount++;
    const bodyEnd = stamped.length - MACS_LENGTH;
    const body = stamped.subarray(0, bodyEnd);
    const mac1 = stamped.subarray(bodyEnd, bodyEnd + MAC_LENGTH);
    if (!equalMacs(mac(this.#crypto, this.#mac1Key, body), mac1)) {
      return { verdict: "drop" };
    }
    if (!this.underLoad) return { verdict: "accept", message: body };
    const mac2 = stamped.subarray(bodyEnd + MAC_LENGTH);
    const cookie = this.#cookie(address, now);
    const expected = mac(
      this.#crypto,
      cookie,
      stamped.subarray(0, bodyEnd + MAC_LENGTH),
    );
    if (equalMacs(expected, mac2)) return { verdict: "accept", message: body };
    const nonce = this.#crypto.randomBytes(12);
    const sealed = this.#crypto.aead.seal(this.#cookieKey, nonce, cookie, mac1);
    return { verdict: "cookie", reply: cat(nonce, sealed) };
  }

  #cookie(address: string, now: number): Uint8Array {
    if (now - this.#secretBornAt >= COOKIE_LIFETIME_MS) {
      this.#secret.fill(0);
      this.#secret = this.#crypto.randomBytes(32);
      this.#secretBornAt = now;
      this.#last = undefined;
    }
    // One entry, not one per initiator: a flood from one address (the
    // common case under load) skips a MAC per message, and a flood from
    // many costs no memory.
    if (this.#last?.address === address) return this.#last.cookie;
    const cookie = mac(this.#crypto, this.#secret, encoder.encode(address));
    this.#last = { address, cookie };
    return cookie;
  }
}

export interface CookieInitiatorOptions {
  /** The responder's Noise static public key (X25519). */
  readonly remoteStaticPublicKey: Uint8Array;
  readonly clock: Clock;
}

export class CookieInitiator {
  #crypto: CryptoProvider;
  #clock: Clock;
  #mac1Key: Uint8Array;
  #cookieKey: Uint8Array;
  #lastMac1: Uint8Array | null = null;
  #cookie: Uint8Array | null = null;
  #cookieAt = 0;

  constructor(crypto: CryptoProvider, options: CookieInitiatorOptions) {
    this.#crypto = crypto;
    this.#clock = options.clock;
    ({ mac1Key: this.#mac1Key, cookieKey: this.#cookieKey } = keysFor(
      crypto,
      options.remoteStaticPublicKey,
    ));
  }

  /** message || mac1 || mac2 (zeros unless we hold a fresh cookie). */
  stamp(message: Uint8Array): Uint8Array {
    const out = new Uint8Array(message.length + MACS_LENGTH);
    out.set(message);
    const mac1 = mac(this.#crypto, this.#mac1Key, message);
    out.set(mac1, message.length);
    this.#lastMac1 = mac1.slice();
    const fresh = this.#cookie !== null &&
      this.#clock.now() - this.#cookieAt < COOKIE_LIFETIME_MS;
    if (fresh) {
      const mac2 = mac(
        this.#crypto,
        this.#cookie!,
        out.subarray(0, message.length + MAC_LENGTH),
      );
      out.set(mac2, message.length + MAC_LENGTH);
    }
    return out;
  }

  /** Accepts a cookie reply to our last initiation; false if it is not one. */
  receiveReply(reply: Uint8Array): boolean {
    if (reply.length !== COOKIE_REPLY_LENGTH || this.#lastMac1 === null) {
      return false;
    }
    const cookie = this.#crypto.aead.open(
      this.#cookieKey,
      reply.subarray(0, 12),
      reply.subarray(12),
      this.#lastMac1,
    );
    if (cookie === null || isZero(cookie)) return false;
    this.#cookie = cookie;
    this.#cookieAt = this.#clock.now();
    return true;
  }
}
