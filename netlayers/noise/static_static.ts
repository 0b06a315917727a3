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

import { Recent } from "./_recent.ts";

/** How many peers' secrets one identity keeps by default. */
export const STATIC_STATIC_CAPACITY = 256;

/** One peer: its static key (a stable copy, so key objects built for it are reused) and DH(s, rs). */
export interface StaticStatic {
  readonly remoteStatic: Uint8Array;
  readonly secret: Uint8Array;
}

export class StaticStaticCache {
  readonly #entries: Recent<StaticStatic>;

  constructor(capacity = STATIC_STATIC_CAPACITY) {
    this.#entries = new Recent(capacity, (evicted) => evicted.secret.fill(0));
  }

  get capacity(): number {
    return this.#entries.capacity;
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
    return this.#entries.get(remoteStatic) ??
      this.#entries.set(remoteStatic, {
        remoteStatic: remoteStatic.slice(),
        secret: compute(),
      });
  }

  /** Zeroes and forgets every secret (the identity is retiring). */
  clear(): void {
    this.#entries.clear();
  }
}
