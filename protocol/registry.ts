/**
 * The registry: one place for every piece of event state the protocol keeps
 * (pending questions, reassembly buffers, gifts, handshakes in flight), so
 * `stats()` shows what is live and a test can end by asserting it is empty.
 * It stands in for RAII: each entry may carry a deadline and a dispose action,
 * and the dispose runs exactly once, on release, expiry or close.
 *
 * Two kinds of key, for two kinds of caller:
 * - Handles are small integers indexing a dense per-kind table. A freed handle
 *   goes to a min-heap and the lowest one is reused first; the table never
 *   shrinks. They suit ids chosen by us that the peer never forges.
 * - Hashcodes are sparse 32-bit ids that own their entry. They are minted by a
 *   cursor that walks the whole code space with a fixed step coprime to its
 *   size, skipping live codes, so a released code comes back only after the
 *   cycle wraps and a stale one fails loudly (`StaleHashcodeError`) instead of
 *   reaching whatever reused the slot. `lookup()` is the never-throwing form
 *   for ids read from the wire.
 *
 * Deadlines share one min-heap and one scheduled clock callback (for the
 * earliest), not a timer per entry; time comes from the injected Clock.
 */
import type { Clock } from "./clock.ts";
import { MinHeap } from "./_min_heap.ts";
import {
  type DisposeReason,
  ENTRIES,
  type Entry,
  type EntryOptions,
  HandleTable,
  makeEntry,
  UNLINK,
} from "./handle_table.ts";

export { HandleTable } from "./handle_table.ts";
export type { DisposeReason, EntryOptions, Handle } from "./handle_table.ts";

/** An unsigned 32-bit id, never 0. */
export type Hashcode = number;
export interface RegistryOptions {
  /** Needed only by entries with a deadline. */
  clock?: Clock;
  /** Hashcodes are 1..maxHashcode (default 0xffffffff); small for wrap tests. */
  maxHashcode?: number;
}

export interface RegistryStats {
  live: number;
  byKind: Record<string, number>;
  /** Live entries that carry a deadline. */
  deadlines: number;
  /** Dense tables in use (see `handles` and `dropHandles`). */
  tables: number;
}

export interface Lease<T> {
  readonly code: Hashcode;
  readonly value: T;
  [Symbol.dispose](): void;
}

/** A hashcode that is not live (released, expired, never minted, other kind). */
export class StaleHashcodeError extends Error {
  readonly code = "STALE_HASHCODE";
  override name = "StaleHashcodeError";
  constructor(readonly hashcode: number, message?: string) {
    super(message ?? `Hashcode ${hex(hashcode)} is not live`);
  }
}

/** Minting or allocating after `close()`. */
export class RegistryClosedError extends Error {
  readonly code = "REGISTRY_CLOSED";
  override name = "RegistryClosedError";
  constructor(kind: string) {
    super(`Registry is closed; cannot add a "${kind}" entry`);
  }
}

interface DeadlineItem {
  readonly entry: Entry;
  readonly deadline: number;
}

const DEFAULT_MAX_HASHCODE = 0xffffffff;
/** 2^32 / golden ratio: successive codes land far apart. */
const GOLDEN_STEP = 0x9e3779b1;

function hex(code: number): string {
  return Number.isInteger(code) && code >= 0
    ? `0x${code.toString(16).padStart(8, "0")}`
    : `"${String(code)}"`;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class Registry {
  #clock: Clock | undefined;
  #max: number;
  #step: number;
  #cursor = 0;
  #codes = new Map<Hashcode, Entry>();
  #tables = new Map<string, HandleTable<unknown>>();
  #byKind = new Map<string, number>();
  #live = 0;
  #closed = false;
  #deadlines = new MinHeap<DeadlineItem>((a, b) => a.deadline < b.deadline);
  #deadlineLive = 0;
  #timerAt = Infinity;
  #cancelTimer: (() => void) | undefined;
  #firing = false;

  constructor(options: RegistryOptions = {}) {
    const max = options.maxHashcode ?? DEFAULT_MAX_HASHCODE;
    if (!Number.isInteger(max) || max < 1 || max > DEFAULT_MAX_HASHCODE) {
      throw new RangeError(`Invalid maxHashcode "${max}"`);
    }
    this.#clock = options.clock;
    this.#max = max;
    let step = GOLDEN_STEP % max || 1;
    while (gcd(step, max) !== 1) step++;
    this.#step = step;
  }

  /** The dense table for `kind`; the same table on every call. */
  handles<T>(kind: string): HandleTable<T> {
    let table = this.#tables.get(kind);
    if (table === undefined) {
      table = new HandleTable<unknown>(kind, {
        add: (entry) => this.#adopt(entry),
        finish: (entry, why) => this.#finish(entry, why),
        extend: (entry, deadline) => this.#setDeadline(entry, deadline),
      });
      this.#tables.set(kind, table);
    }
    return table as HandleTable<T>;
  }

  /**
   * Forgets the dense table for `kind`, disposing what it still holds with
   * "released" first: a table named for something that has ended (a
   * session's questions) must not outlive it.
   */
  dropHandles(kind: string): void {
    const table = this.#tables.get(kind);
    if (table === undefined) return;
    this.#tables.delete(kind);
    runAll([...table[ENTRIES]()], (entry) => this.#finish(entry, "released"));
  }

  mint<T>(kind: string, value: T, options: EntryOptions<T> = {}): Hashcode {
    if (this.#closed) throw new RegistryClosedError(kind);
    if (this.#codes.size >= this.#max) {
      throw new RangeError(`Registry holds all ${this.#max} hashcodes`);
    }
    let code: number;
    do {
      this.#cursor = (this.#cursor + this.#step) % this.#max;
      code = this.#cursor + 1;
    } while (this.#codes.has(code));
    const entry = makeEntry(kind, value, options, undefined, code);
    this.#adopt(entry);
    this.#codes.set(code, entry);
    return code;
  }

  /** Throws `StaleHashcodeError` unless `code` is live (and of `kind`). */
  get<T>(code: Hashcode, kind?: string): T {
    if (typeof code !== "number") {
      throw new TypeError(`Hashcode must be a number, got "${typeof code}"`);
    }
    const entry = this.#codes.get(code);
    if (entry === undefined) throw new StaleHashcodeError(code);
    if (kind !== undefined && entry.kind !== kind) {
      throw new StaleHashcodeError(
        code,
        `Hashcode ${hex(code)} is a "${entry.kind}", not a "${kind}"`,
      );
    }
    return entry.value as T;
  }

  /** For ids from untrusted input: undefined instead of any throw. */
  lookup<T>(code: unknown, kind?: string): T | undefined {
    if (typeof code !== "number") return undefined;
    const entry = this.#codes.get(code);
    if (entry === undefined) return undefined;
    if (kind !== undefined && entry.kind !== kind) return undefined;
    return entry.value as T;
  }

  has(code: Hashcode): boolean {
    return this.#codes.has(code);
  }

  /** Removes the entry and runs its dispose; false when it was not live. */
  release(code: Hashcode): boolean {
    const entry = this.#codes.get(code);
    return entry === undefined ? false : this.#finish(entry, "released");
  }

  /**
   * A Clock whose timers are entries of `kind` holding `value`, so they show
   * in stats() and go when the registry closes: the named delays of a
   * lifecycle machine (protocol/machine_driver.ts) that lives here.
   */
  timers(kind: string, value: unknown): Clock {
    const clock = this.#clock;
    if (clock === undefined) this.#requireClock(0); // throws
    return {
      now: () => clock!.now(),
      schedule: (at, fn) => {
        const code = this.mint(kind, value, {
          deadline: at,
          dispose: (_value, why) => {
            if (why === "expired") fn();
          },
        });
        return () => void this.release(code);
      },
    };
  }

  /** A hashcode entry for `using`: released when the scope ends. */
  lease<T>(kind: string, value: T, options?: EntryOptions<T>): Lease<T> {
    const code = this.mint(kind, value, options);
    const entry = this.#codes.get(code)!;
    return {
      code,
      value,
      [Symbol.dispose]: () => {
        this.#finish(entry, "released");
      },
    };
  }

  /** Moves a live entry's deadline; `undefined` removes it. */
  extend(code: Hashcode, deadline: number | undefined): void {
    const entry = this.#codes.get(code);
    if (entry === undefined) throw new StaleHashcodeError(code);
    this.#setDeadline(entry, deadline);
  }

  stats(): RegistryStats {
    const byKind: Record<string, number> = {};
    for (const [kind, n] of this.#byKind) byKind[kind] = n;
    return {
      live: this.#live,
      byKind,
      deadlines: this.#deadlineLive,
      tables: this.#tables.size,
    };
  }

  /** Disposes every entry with "closed" and cancels the timer; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    const entries: Entry[] = [...this.#codes.values()];
    for (const table of this.#tables.values()) {
      for (const entry of table[ENTRIES]()) entries.push(entry);
    }
    runAll(entries, (entry) => this.#finish(entry, "closed"));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Validates before it counts, so a refused entry leaves no trace. */
  #adopt(entry: Entry): void {
    if (this.#closed) throw new RegistryClosedError(entry.kind);
    if (entry.deadline !== Infinity) this.#requireClock(entry.deadline);
    this.#live++;
    this.#byKind.set(entry.kind, (this.#byKind.get(entry.kind) ?? 0) + 1);
    if (entry.deadline !== Infinity) {
      this.#deadlineLive++;
      this.#deadlines.push({ entry, deadline: entry.deadline });
      this.#arm();
    }
  }

  #finish(entry: Entry, why: DisposeReason): boolean {
    if (!entry.live) return false;
    entry.live = false;
    if (entry.table === undefined) this.#codes.delete(entry.id);
    else entry.table[UNLINK](entry.id);
    this.#live--;
    const left = this.#byKind.get(entry.kind)! - 1;
    if (left === 0) this.#byKind.delete(entry.kind);
    else this.#byKind.set(entry.kind, left);
    if (entry.deadline !== Infinity) this.#dropDeadline();
    entry.dispose?.(entry.value as never, why);
    return true;
  }

  #setDeadline(entry: Entry, deadline: number | undefined): void {
    const next = deadline ?? Infinity;
    if (next !== Infinity) this.#requireClock(next);
    if (entry.deadline !== Infinity) this.#dropDeadline();
    entry.deadline = next;
    if (next !== Infinity) {
      this.#deadlineLive++;
      this.#deadlines.push({ entry, deadline: next });
      this.#arm();
    }
  }

  #requireClock(deadline: number): void {
    if (this.#clock === undefined) {
      throw new TypeError("A deadline needs a registry built with a clock");
    }
    if (Number.isNaN(deadline)) throw new RangeError(`Invalid deadline "NaN"`);
  }

  /** One fewer live deadline; sheds heap items that no longer count. */
  #dropDeadline(): void {
    this.#deadlineLive--;
    if (this.#deadlineLive === 0) {
      this.#deadlines.clear();
      this.#disarm();
    } else if (this.#deadlines.size > 2 * this.#deadlineLive + 64) {
      this.#deadlines.filter(isCurrent);
    }
  }

  #arm(): void {
    if (this.#firing) return;
    let top = this.#deadlines.peek();
    while (top !== undefined && !isCurrent(top)) {
      this.#deadlines.pop();
      top = this.#deadlines.peek();
    }
    if (top === undefined) return this.#disarm();
    if (top.deadline === this.#timerAt) return;
    this.#disarm();
    this.#timerAt = top.deadline;
    this.#cancelTimer = this.#clock!.schedule(top.deadline, this.#onTimer);
  }

  #disarm(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = Infinity;
  }

  #onTimer = (): void => {
    this.#cancelTimer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock!.now();
    const due: Entry[] = [];
    this.#firing = true;
    try {
      for (;;) {
        const top = this.#deadlines.peek();
        if (top === undefined || top.deadline > now) break;
        this.#deadlines.pop();
        if (isCurrent(top)) due.push(top.entry);
      }
      // A dispose may release or extend a later entry in the same batch.
      runAll(due, (entry) => {
        if (entry.deadline <= now) this.#finish(entry, "expired");
      });
    } finally {
      this.#firing = false;
      if (!this.#closed) this.#arm();
    }
  };
}

function isCurrent(item: DeadlineItem): boolean {
  return item.entry.live && item.entry.deadline === item.deadline;
}

/** Runs `fn` on each item even if some throw, then rethrows. */
function runAll<T>(items: T[], fn: (item: T) => void): void {
  const errors: unknown[] = [];
  for (const item of items) {
    try {
      fn(item);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(errors, `${errors.length} dispose actions threw`);
  }
}
