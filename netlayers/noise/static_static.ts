/**
 * Noise rev. 34, section 7.5 (IK): the `ss` token mixes DH(s, rs), and that
 * value depends only on the two static keys, so every IK session between the
 * same two peers computes the same secret. Like WireGuard's per-peer
 * precomputed static-static secret, one local identity keeps the results for
 * its recent peers: a repeat IK handshake then costs three Diffie-Hellmans
 * per side instead of four. The handshake bytes are unchanged (the secret is
 * the same), so the Noise vectors hold.
 *
 * Bounded (least recently used goes first) because a responder meets any
 * static key an initiator chooses to send once it has passed the mac1 gate;
 * an evicted secret is zeroed. A failed DH (a low-order key) is not kept.
 */

/** How many peers' secrets one identity keeps by default. */
export const STATIC_STATIC_CAPACITY = 256;

/** A 32-byte key as a map key; a string compares by value, an array does not. */
function keyOf(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** One peer: its static key (a stable copy, so key objects built for it are reused) and DH(s, rs). */
export interface StaticStatic {
  readonly remoteStatic: Uint8Array;
  readonly secret: Uint8Array;
}

export class StaticStaticCache {
  readonly capacity: number;
  /** Insertion order is recency order: the first entry is evicted first. */
  readonly #entries = new Map<string, StaticStatic>();

  constructor(capacity = STATIC_STATIC_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid capacity "${capacity}"`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry for `remoteStatic`, its secret from the cache or from
   * `compute` (whose throw propagates and stores nothing). The arrays
   * returned belong to the cache: the caller must not change or zero them.
   */
  get(remoteStatic: Uint8Array, compute: () => Uint8Array): StaticStatic {
    const key = keyOf(remoteStatic);
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const entry = { remoteStatic: remoteStatic.slice(), secret: compute() };
    if (this.#entries.size >= this.capacity) {
      const [oldest, evicted] = this.#entries.entries().next().value!;
      this.#entries.delete(oldest);
      evicted.secret.fill(0);
    }
    this.#entries.set(key, entry);
    return entry;
  }

  /** Zeroes and forgets every secret (the identity is retiring). */
  clear(): void {
    for (const entry of this.#entries.values()) entry.secret.fill(0);
    this.#entries.clear();
  }
}
