/**
 * Our imports table and the distributed GC messages it produces (CapTP
 * draft, "op:gc-exports" and "op:gc-answers"; shared/ocapn-notes.md
 * "Tables").
 *
 * Why it is separate from engine.ts: releasing is bookkeeping with its own
 * invariants (an import is released once, with the count of every
 * `desc:import-*` received since the last release; an answered question's
 * position is reused only after our op:gc-answers for it is sent) and it
 * batches: every release of one microtask leaves in one message, queued
 * before the write it follows so that both share one transport write.
 *
 * It also paces: GC messages go out at most once per GC_INTERVAL_MS. A
 * release after a quiet interval leaves at the end of its microtask, as
 * above; releases while one interval is still running wait for its end and
 * leave together. A session making calls back to back (one question, one
 * resolver, each released per call) would otherwise send two GC messages
 * per call, as many as the calls themselves; paced, an interval's calls
 * share one op:gc-answers and one op:gc-exports, and the peer frees the
 * same positions at most that much later (or once MAX_PACED_RELEASES
 * are held, whichever comes first).
 *
 * Why 10 ms: each paced flush is a timer and a write of its own, and the
 * peer's read of it. At 1 ms (a flush every thirty or so calls) that cost
 * about 1.4 µs of a 30 µs round trip over loopback TCP (bench/captp_script.ts,
 * same-run A/B: 1.48 -> 1.41 times the raw echo); at 10 ms a flush comes
 * every few hundred calls, and a peer still learns of a release within one
 * interval.
 */

import type { Clock } from "../clock.ts";
import type { SyrupRecord } from "../syrup/value.ts";
import type { SessionSeveredError } from "./errors.ts";
import type { FinalizerFactory } from "./host.ts";
import { weakFinalizer } from "./host.ts";
import type { ImportEntry } from "./tables.ts";
import type { ImportDesc } from "./operations.ts";
import {
  BOOTSTRAP_POS,
  type ImportPos,
  type QuestionPos,
} from "./positions.ts";
import { opGcAnswers, opGcExports } from "./operation_writers.ts";
import type { Dialect } from "./_wire.ts";

const resolved = Promise.resolve();
/** The shortest time between two flushes of one session's GC messages. */
export const GC_INTERVAL_MS = 10;
/**
 * Releases held back by the pacing before they leave anyway: a burst that
 * never yields to the event loop (so no timer fires) holds at most this many
 * positions, and the peer's tables stay bounded.
 */
export const MAX_PACED_RELEASES = 256;

export interface ImportsOptions {
  dialect: Dialect;
  send(record: SyrupRecord): void;
  finalizer?: FinalizerFactory;
  /** Frees a question position once its op:gc-answers is on the wire. */
  releaseQuestion(pos: QuestionPos): void;
  /** Paces the flushes. */
  clock: Clock;
}

interface Token {
  pos: ImportPos;
  generation: number;
}

export class Imports {
  #o: ImportsOptions;
  /** Positions chosen by the peer. */
  #entries = new Map<ImportPos, ImportEntry>();
  #finalizer;
  #severed = false;
  #gcExports = new Map<ImportPos, number>();
  #gcAnswers: QuestionPos[] = [];
  #flushQueued = false;
  #flushJob = () => this.flush();
  /** When the last flush went out; the next waits until GC_INTERVAL_MS after. */
  #lastFlush = -Infinity;
  /** Cancels the timer of a flush waiting for its interval. */
  #cancelPaced: (() => void) | undefined;

  constructor(options: ImportsOptions) {
    this.#o = options;
    this.#finalizer = (options.finalizer ?? weakFinalizer)((token) =>
      this.#collected(token as Token)
    );
  }

  get(pos: ImportPos): ImportEntry | undefined {
    return this.#entries.get(pos);
  }

  /** The entry at `pos`, made if the peer names it for the first time. */
  entry(pos: ImportPos, kind: "object" | "promise"): ImportEntry {
    let entry = this.#entries.get(pos);
    if (entry === undefined) {
      entry = {
        pos,
        kind,
        count: 0,
        pins: 0,
        presence: undefined,
        generation: 0,
        kit: undefined,
      };
      this.#entries.set(pos, entry);
    }
    return entry;
  }

  /** Watches `presence`, the entry's new presence, for collection. */
  track(entry: ImportEntry, presence: object): void {
    entry.generation++;
    entry.presence = this.#finalizer.track(presence, {
      pos: entry.pos,
      generation: entry.generation,
    });
  }

  /** Counts one `desc:import-*` held by the engine (a resolver) until unpin. */
  pin(desc: ImportDesc): ImportEntry {
    const kind = desc.type === "desc:import-object" ? "object" : "promise";
    const entry = this.entry(desc.position, kind);
    entry.count++;
    entry.pins++;
    return entry;
  }

  unpin(entry: ImportEntry): void {
    entry.pins--;
    this.#maybeRelease(entry);
  }

  /** Our question `pos` is answered: the peer may free its answer. */
  answered(pos: QuestionPos): void {
    this.#gcAnswers.push(pos);
    this.queueFlush();
  }

  #collected(token: Token): void {
    const entry = this.#entries.get(token.pos);
    if (
      this.#severed || entry === undefined ||
      entry.generation !== token.generation
    ) return;
    entry.presence = undefined;
    this.#maybeRelease(entry);
  }

  #maybeRelease(entry: ImportEntry): void {
    if (entry.pins > 0 || entry.presence?.deref() !== undefined) return;
    if (this.#entries.get(entry.pos) !== entry) return;
    this.#entries.delete(entry.pos);
    // The peer's bootstrap object is never collected.
    if (entry.pos === BOOTSTRAP_POS as number || entry.count === 0) return;
    this.#gcExports.set(
      entry.pos,
      (this.#gcExports.get(entry.pos) ?? 0) + entry.count,
    );
    this.queueFlush();
  }

  queueFlush(): void {
    if (this.#flushQueued) return;
    const held = this.#gcAnswers.length + this.#gcExports.size;
    // A flush already waiting takes this release along (no clock read).
    if (this.#cancelPaced !== undefined && held < MAX_PACED_RELEASES) return;
    const clock = this.#o.clock;
    const due = this.#lastFlush + GC_INTERVAL_MS;
    if (held >= MAX_PACED_RELEASES || clock.now() >= due) {
      this.#flushQueued = true;
      resolved.then(this.#flushJob);
    } else {
      this.#cancelPaced = clock.schedule(due, this.#flushJob);
    }
  }

  /**
   * Sends pending op:gc-exports / op:gc-answers now (normally at the end of
   * the microtask, or of the GC interval).
   */
  flush(): void {
    this.#flushQueued = false;
    this.#cancelPaced?.();
    this.#cancelPaced = undefined;
    if (this.#severed) return;
    if (this.#gcExports.size === 0 && this.#gcAnswers.length === 0) return;
    this.#lastFlush = this.#o.clock.now();
    const style = this.#o.dialect.gc;
    if (this.#gcExports.size > 0) {
      const positions = [...this.#gcExports.keys()];
      const deltas = [...this.#gcExports.values()];
      // A new map costs less than clear(), a call into C++.
      this.#gcExports = new Map();
      for (const r of opGcExports(positions, deltas, style)) this.#o.send(r);
    }
    if (this.#gcAnswers.length > 0) {
      const positions = this.#gcAnswers;
      this.#gcAnswers = [];
      for (const r of opGcAnswers(positions, style)) this.#o.send(r);
      // Only now may a position be reused: the peer reads the gc first.
      for (const q of positions) this.#o.releaseQuestion(q);
    }
  }

  /** Breaks every promise import; nothing is released after this. */
  sever(error: SessionSeveredError): void {
    this.#severed = true;
    this.#cancelPaced?.();
    this.#cancelPaced = undefined;
    for (const entry of this.#entries.values()) entry.kit?.reject(error);
    this.#entries.clear();
    this.#gcExports.clear();
    this.#gcAnswers = [];
  }

  /** Live imports, the peer's bootstrap object excluded. */
  get size(): number {
    let n = 0;
    for (const pos of this.#entries.keys()) if (pos !== 0) n++;
    return n;
  }

  check(): void {
    for (const [pos, entry] of this.#entries) {
      if (entry.pos !== pos) {
        throw new Error(`Import ${pos} filed under ${entry.pos}`);
      }
      if (entry.pins < 0 || entry.count < 0) {
        throw new Error(`Import ${pos} has negative counts`);
      }
    }
  }
}
