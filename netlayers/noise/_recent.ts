/**
 * A bounded map keyed by byte strings (32-byte keys, here), least recently
 * used evicted first. The Noise caches of per-peer results (static_static.ts,
 * identityStatic in peer_handshake.ts) are both this: a peer's key picks the
 * entry, and a responder meets any key an initiator sends, so they are
 * bounded.
 */

/**
 * A byte key as a map key: a string compares by value, an array does not.
 * `apply` takes the array as it is; a spread would iterate it first, which
 * made this several times slower.
 */
function keyOf(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

export class Recent<V> {
  readonly capacity: number;
  /** Insertion order is recency order: the first entry is evicted first. */
  readonly #entries = new Map<string, V>();
  readonly #onEvict: ((value: V) => void) | undefined;

  constructor(capacity: number, onEvict?: (value: V) => void) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid capacity "${capacity}"`);
    }
    this.capacity = capacity;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, now the most recently used; undefined if none. */
  get(key: Uint8Array): V | undefined {
    const k = keyOf(key);
    const hit = this.#entries.get(k);
    if (hit !== undefined) {
      this.#entries.delete(k);
      this.#entries.set(k, hit);
    }
    return hit;
  }

  /** Keeps `value` for `key` as the most recently used, evicting the least if full. */
  set(key: Uint8Array, value: V): V {
    const k = keyOf(key);
    if (!this.#entries.delete(k) && this.#entries.size >= this.capacity) {
      const [oldest, evicted] = this.#entries.entries().next().value!;
      this.#entries.delete(oldest);
      this.#onEvict?.(evicted);
    }
    this.#entries.set(k, value);
    return value;
  }

  /** Forgets every entry, each passed to `onEvict`. */
  clear(): void {
    if (this.#onEvict) {
      for (const v of this.#entries.values()) this.#onEvict(v);
    }
    this.#entries.clear();
  }
}
