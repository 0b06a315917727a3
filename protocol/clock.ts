/**
 * Time, injected. protocol/ never reads a real clock or sets a real timer;
 * runtime/ passes `systemClock`-like implementations in and tests pass a
 * `ManualClock` (protocol/manual_clock.ts) that only moves when told.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Run `fn` once when `now() >= at`; the returned function cancels it. */
  schedule(at: number, fn: () => void): () => void;
}
