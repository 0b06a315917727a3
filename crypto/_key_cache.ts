/**
 * A cache of backend key objects keyed by the caller's raw key array. The
 * CryptoProvider interface (protocol/crypto.ts) passes raw 32-byte keys, and
 * turning one into a native key object costs several microseconds (an
 * Ed25519 secret, a scalar multiplication); a Noise static key or a session
 * key is used many times, so each array's object is built once.
 *
 * Entries are weak (they go when the array does) and hold a copy of the
 * bytes they were built from: an array changed since, zeroed by a
 * `destroy()` for instance, is rebuilt rather than served a stale key.
 */

interface Entry<K> {
  readonly bytes: Uint8Array;
  readonly key: K;
}

/** Compares in time independent of the contents (the bytes may be a secret). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export class KeyCache<K> {
  readonly #entries = new WeakMap<Uint8Array, Entry<K>>();
  readonly #make: (raw: Uint8Array) => K;

  constructor(make: (raw: Uint8Array) => K) {
    this.#make = make;
  }

  /** The key object for `raw`, built on first use or after `raw` changed. */
  get(raw: Uint8Array): K {
    const hit = this.#entries.get(raw);
    if (hit !== undefined && sameBytes(hit.bytes, raw)) return hit.key;
    const key = this.#make(raw);
    this.#entries.set(raw, { bytes: raw.slice(), key });
    return key;
  }

  /** Records `key` as the object for `raw` (a key pair made by the backend). */
  set(raw: Uint8Array, key: K): void {
    this.#entries.set(raw, { bytes: raw.slice(), key });
  }
}
