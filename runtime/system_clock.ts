/**
 * The real Clock (protocol/clock.ts) for runtime/ and netlayers/: a monotonic
 * `now()` and cancellable timers. It keeps every timer it set so `close()`
 * can cancel them all, which is what lets a test or a shutdown leave no timer
 * behind for Deno's leak sanitizer.
 */
import type { Clock } from "../protocol/clock.ts";

/** setTimeout's largest delay; longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export class SystemClock implements Clock {
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  now(): number {
    return performance.now();
  }

  schedule(at: number, fn: () => void): () => void {
    if (typeof at !== "number" || Number.isNaN(at)) {
      throw new RangeError(`Invalid time "${String(at)}"`);
    }
    if (this.#closed) return () => {};
    let id: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      // Whole milliseconds, rounded up: a fractional delay let the timer
      // fire a little before `at` now and then, and cost a second timer.
      const delay = Math.min(
        Math.max(0, Math.ceil(at - this.now())),
        MAX_DELAY,
      );
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.now() >= at) fn();
        else arm();
      }, delay);
      id = timer;
      this.#timers.add(timer);
    };
    arm();
    return () => {
      if (id === undefined) return;
      clearTimeout(id);
      this.#timers.delete(id);
    };
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Cancels every timer; later schedule() calls do nothing. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const id of this.#timers) clearTimeout(id);
    this.#timers.clear();
  }
}
