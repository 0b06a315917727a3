/**
 * A deterministic lossy datagram link for the UDP netlayer's tests: two
 * sides, a seeded PRNG, and set probabilities to drop, duplicate, reorder
 * (extra random delay), delay and corrupt each datagram, plus an optional
 * size limit that drops datagrams above it (a PMTU black hole). Time is a
 * ManualClock, so a test at 20% loss over seconds of link time runs in
 * milliseconds and the same seed replays the same run.
 *
 * Datagrams due at the same instant arrive as one batch and then the side's
 * `drain` hook runs, as a socket reader calls it when its queue empties.
 */
import type { ManualClock } from "../../../protocol/manual_clock.ts";

export interface LinkFaults {
  drop?: number;
  duplicate?: number;
  /** Probability of an extra random delay of up to `reorderSpread` ms. */
  reorder?: number;
  reorderSpread?: number;
  corrupt?: number;
  /** One-way delay in ms. */
  delay?: number;
  /** Datagrams longer than this are dropped. */
  maxSize?: number;
}

export type Side = "a" | "b";

export interface LinkCounters {
  sent: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  delivered: number;
  tooLarge: number;
}

export interface SideHandlers {
  receive(datagram: Uint8Array): void;
  drain(): void;
}

interface Arrival {
  at: number;
  bytes: Uint8Array;
}

/** mulberry32: small, fast, and plenty for fault injection. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class LinkShim {
  #clock: ManualClock;
  #random: () => number;
  faults: LinkFaults;
  readonly counters: LinkCounters = {
    sent: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    delivered: 0,
    tooLarge: 0,
  };
  #handlers: Partial<Record<Side, SideHandlers>> = {};
  #inbox: Record<Side, Arrival[]> = { a: [], b: [] };
  #cancels = new Set<() => void>();

  constructor(
    clock: ManualClock,
    options: { seed: number; faults?: LinkFaults },
  ) {
    this.#clock = clock;
    this.#random = seededRandom(options.seed);
    this.faults = options.faults ?? {};
  }

  attach(side: Side, handlers: SideHandlers): void {
    this.#handlers[side] = handlers;
  }

  /** A `sendDatagram` for `from`: what it sends arrives at the other side. */
  sender(from: Side): (bytes: Uint8Array) => void {
    const to: Side = from === "a" ? "b" : "a";
    return (bytes) => this.send(to, bytes);
  }

  /** Datagrams scheduled but not yet delivered. */
  get inTransit(): number {
    return this.#inbox.a.length + this.#inbox.b.length;
  }

  /** Forgets everything in transit and cancels its timers. */
  close(): void {
    for (const cancel of this.#cancels) cancel();
    this.#cancels.clear();
    this.#inbox.a = [];
    this.#inbox.b = [];
  }

  send(to: Side, bytes: Uint8Array): void {
    const f = this.faults;
    const c = this.counters;
    c.sent++;
    if (f.maxSize !== undefined && bytes.length > f.maxSize) {
      c.tooLarge++;
      return;
    }
    if (this.#random() < (f.drop ?? 0)) {
      c.dropped++;
      return;
    }
    let copy = bytes.slice();
    if (this.#random() < (f.corrupt ?? 0)) {
      c.corrupted++;
      const bit = Math.floor(this.#random() * copy.length * 8);
      copy[bit >> 3] ^= 1 << (bit & 7);
    }
    this.#enqueue(to, copy);
    if (this.#random() < (f.duplicate ?? 0)) {
      c.duplicated++;
      copy = copy.slice();
      this.#enqueue(to, copy);
    }
  }

  #enqueue(to: Side, bytes: Uint8Array): void {
    const f = this.faults;
    let at = this.#clock.now() + (f.delay ?? 1);
    if (this.#random() < (f.reorder ?? 0)) {
      this.counters.reordered++;
      at += this.#random() * (f.reorderSpread ?? 5);
    }
    const inbox = this.#inbox[to];
    let i = inbox.length;
    while (i > 0 && inbox[i - 1].at > at) i--;
    inbox.splice(i, 0, { at, bytes });
    const cancel = this.#clock.schedule(at, () => {
      this.#cancels.delete(cancel);
      this.#deliver(to);
    });
    this.#cancels.add(cancel);
  }

  #deliver(to: Side): void {
    const inbox = this.#inbox[to];
    const now = this.#clock.now();
    let n = 0;
    while (n < inbox.length && inbox[n].at <= now) n++;
    if (n === 0) return;
    const due = inbox.splice(0, n);
    const handlers = this.#handlers[to];
    if (handlers === undefined) return;
    for (const arrival of due) {
      this.counters.delivered++;
      handlers.receive(arrival.bytes);
    }
    handlers.drain();
  }
}
