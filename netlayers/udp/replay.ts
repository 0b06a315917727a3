/**
 * Anti-replay sliding window over packet numbers, in the manner of RFC 6479
 * (the bitmap of 32-bit blocks that WireGuard also uses). A packet number is
 * accepted once; one older than the window is refused because it can no
 * longer be told apart from a replay.
 *
 * Why it exists: the packet number is the AEAD nonce, so a captured datagram
 * opens again; only this window stops an attacker replaying it. `check()`
 * runs before the AEAD (cheap rejection), `accept()` only after the tag
 * verified, so forged datagrams never move the window.
 */
import type { PacketRange } from "./wire.ts";

const BLOCK_BITS = 32;

export class ReplayWindow {
  #blocks: Uint32Array;
  #mask: number;
  #windowSize: number;
  /** Highest packet number accepted so far; -1 before the first. */
  #top = -1;

  /** `blocks` is a power of two; the window is (blocks - 1) * 32 packets. */
  constructor(blocks = 64) {
    if (!Number.isInteger(blocks) || blocks < 2 || (blocks & (blocks - 1))) {
      throw new RangeError(
        `Block count must be a power of two, got "${blocks}"`,
      );
    }
    this.#blocks = new Uint32Array(blocks);
    this.#mask = blocks - 1;
    this.#windowSize = (blocks - 1) * BLOCK_BITS;
  }

  get windowSize(): number {
    return this.#windowSize;
  }

  get top(): number {
    return this.#top;
  }

  /** True when `pn` has not been accepted and is not too old. */
  check(pn: number): boolean {
    if (pn > this.#top) return true;
    if (pn + this.#windowSize <= this.#top) return false;
    const block = Math.floor(pn / BLOCK_BITS) & this.#mask;
    return (this.#blocks[block] & (1 << (pn & (BLOCK_BITS - 1)))) === 0;
  }

  /** Records `pn`; false (and no change) when `check(pn)` would fail. */
  accept(pn: number): boolean {
    if (!this.check(pn)) return false;
    const index = Math.floor(pn / BLOCK_BITS);
    if (pn > this.#top) {
      // Clear the blocks the window slides over, at most the whole ring.
      const current = this.#top < 0 ? -1 : Math.floor(this.#top / BLOCK_BITS);
      const diff = Math.min(index - current, this.#blocks.length);
      for (let i = 1; i <= diff; i++) {
        this.#blocks[(current + i) & this.#mask] = 0;
      }
      this.#top = pn;
    }
    this.#blocks[index & this.#mask] |= 1 << (pn & (BLOCK_BITS - 1));
    return true;
  }

  /**
   * Accepted packet numbers among the newest `span` (at most the window), as
   * ranges newest first, at most `max` of them. This is what an ack
   * reports: resending the recent history in every ack means one lost ack
   * costs nothing, since the next one repeats it.
   */
  ranges(span: number, max: number): PacketRange[] {
    const out: PacketRange[] = [];
    const top = this.#top;
    if (top < 0) return out;
    const lowest = Math.max(0, top - Math.min(span, this.#windowSize) + 1);
    let high = -1;
    for (let pn = top; pn >= lowest; pn--) {
      const block = Math.floor(pn / BLOCK_BITS) & this.#mask;
      const set = (this.#blocks[block] & (1 << (pn & (BLOCK_BITS - 1)))) !== 0;
      if (set) {
        if (high < 0) high = pn;
      } else if (high >= 0) {
        out.push({ high, low: pn + 1 });
        high = -1;
        if (out.length === max) return out;
      }
    }
    if (high >= 0) out.push({ high, low: lowest });
    return out;
  }
}
