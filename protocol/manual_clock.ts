/**
 * A Clock (protocol/clock.ts) that moves only when told, so timeouts in
 * handshakes, questions, gifts and reassembly are tested without sleeping.
 * Due callbacks fire in deadline order (ties in scheduling order), and while
 * one runs `now()` reads its deadline, as it would under a real clock.
 */
import type { Clock } from "./clock.ts";
import { MinHeap } from "./_min_heap.ts";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending = 0;
  #timers = new MinHeap<Timer>((a, b) =>
    a.at < b.at || (a.at === b.at && a.seq < b.seq)
  );

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Never fires synchronously, even when `at` is already past. */
  schedule(at: number, fn: () => void): () => void {
    if (typeof at !== "number" || Number.isNaN(at)) {
      throw new RangeError(`Invalid time "${String(at)}"`);
    }
    const timer: Timer = { at, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    this.#pending++;
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      this.#pending--;
    };
  }

  /** Callbacks scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /** Moves time forward by `ms`, firing what falls due; returns how many. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance by "${ms}"`);
    return this.advanceTo(this.#now + ms);
  }

  /** Moves time to `to` (never backwards), firing what falls due. */
  advanceTo(to: number): number {
    if (!(to >= this.#now)) {
      throw new RangeError(`Cannot move the clock back to "${to}"`);
    }
    let fired = 0;
    for (;;) {
      const timer = this.#nextLive();
      if (timer === undefined || timer.at > to) break;
      this.#fire(timer);
      fired++;
    }
    this.#now = to;
    return fired;
  }

  /**
   * Fires every pending callback, including ones scheduled meanwhile, moving
   * time to each deadline; stops with a RangeError past `limit` firings.
   */
  runAll(limit = 10_000): number {
    let fired = 0;
    for (let timer = this.#nextLive(); timer; timer = this.#nextLive()) {
      if (fired === limit) {
        throw new RangeError(`Clock still busy after "${limit}" callbacks`);
      }
      this.#fire(timer);
      fired++;
    }
    return fired;
  }

  #nextLive(): Timer | undefined {
    let timer = this.#timers.peek();
    while (timer !== undefined && timer.cancelled) {
      this.#timers.pop();
      timer = this.#timers.peek();
    }
    return timer;
  }

  #fire(timer: Timer): void {
    this.#timers.pop();
    timer.cancelled = true;
    this.#pending--;
    if (timer.at > this.#now) this.#now = timer.at;
    timer.fn();
  }
}
