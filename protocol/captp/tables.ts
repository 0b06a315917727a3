/**
 * The exports and imports tables of a CapTP session, with the reference
 * counts that distributed acyclic GC needs (CapTP draft, "op:gc-exports";
 * shared/ocapn-notes.md "Tables").
 *
 * Why counts: a reference may be in flight towards the peer while the peer
 * releases it. Each time we send `desc:import-*` for an export we count one;
 * the peer counts each one it receives and, when it drops the import, sends
 * op:gc-exports with that number as the wire delta. An export is freed only
 * when the deltas reach our count, so a reference still on the wire is never
 * freed early. Questions live in the registry (session.ts); answers are a
 * plain map freed by op:gc-answers.
 */

import {
  type AnswerPos,
  BOOTSTRAP_POS,
  type ExportPos,
  type ImportPos,
} from "./positions.ts";

/** Our exports. Positions chosen by us; 0 is the bootstrap object. */
export class ExportTable {
  #values: unknown[] = [];
  #counts: number[] = [];
  #free: ExportPos[] = [];
  #index = new Map<unknown, ExportPos>();
  #size = 0;

  constructor(bootstrap: unknown) {
    this.#values[BOOTSTRAP_POS] = bootstrap;
    this.#counts[BOOTSTRAP_POS] = 1;
    this.#index.set(bootstrap, BOOTSTRAP_POS);
    this.#size = 1;
  }

  /** Position of `value`, exporting it if new; counts one more on the wire. */
  export(value: unknown): ExportPos {
    let pos = this.#index.get(value);
    if (pos === undefined) {
      pos = this.#place(value, 0);
      this.#index.set(value, pos);
    }
    if (pos !== BOOTSTRAP_POS) this.#counts[pos]++;
    return pos;
  }

  /**
   * Exports `value`, which the caller has just made and never exports
   * again (the engine's resolvers), counting one on the wire. It stays out
   * of the index: indexing an object first gives it an identity hash, a
   * call into the engine's C++, and a resolver is made for every question.
   */
  exportNew(value: unknown): ExportPos {
    return this.#place(value, 1);
  }

  /** A freed position if there is one, else a new one, now holding `value`. */
  #place(value: unknown, count: number): ExportPos {
    const pos = this.#free.pop() ?? this.#values.length as ExportPos;
    this.#values[pos] = value;
    this.#counts[pos] = count;
    this.#size++;
    return pos;
  }

  get(pos: ExportPos): unknown {
    return this.#counts[pos] === undefined ? undefined : this.#values[pos];
  }

  has(pos: ExportPos): boolean {
    return this.#counts[pos] !== undefined;
  }

  /**
   * Applies a wire delta from op:gc-exports. False when it names a free
   * position or exceeds what we sent (a protocol violation). The bootstrap
   * object is never freed.
   */
  release(pos: ExportPos, delta: number): boolean {
    const count = this.#counts[pos];
    if (count === undefined) return false;
    if (pos === BOOTSTRAP_POS) return true;
    if (delta > count) return false;
    this.#counts[pos] = count - delta;
    if (count - delta === 0) {
      this.#index.delete(this.#values[pos]);
      this.#values[pos] = undefined;
      this.#counts[pos] = undefined as unknown as number;
      this.#free.push(pos);
      this.#size--;
    }
    return true;
  }

  /** Live exports, the bootstrap object included. */
  get size(): number {
    return this.#size;
  }

  count(pos: ExportPos): number | undefined {
    return this.#counts[pos];
  }

  clear(): void {
    const bootstrap = this.#values[BOOTSTRAP_POS];
    this.#values = [bootstrap];
    this.#counts = [1];
    this.#free = [];
    this.#index = new Map([[bootstrap, BOOTSTRAP_POS]]);
    this.#size = 1;
  }

  check(): void {
    let live = 0;
    let unindexed = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      if (this.#counts[i] === undefined) continue;
      live++;
      const indexed = this.#index.get(this.#values[i]);
      if (indexed === undefined) unindexed++;
      else if (indexed !== i) {
        throw new Error(`Export ${i} is filed in the index under ${indexed}`);
      }
      if (i !== BOOTSTRAP_POS && !(this.#counts[i] > 0)) {
        throw new Error(`Export ${i} is live with count ${this.#counts[i]}`);
      }
    }
    if (live !== this.#size || this.#index.size + unindexed !== live) {
      throw new Error(`Export table size ${this.#size} but ${live} live`);
    }
  }
}

/** One entry of our imports. Positions chosen by the peer. */
export interface ImportEntry {
  readonly pos: ImportPos;
  readonly kind: "object" | "promise";
  /** `desc:import-*` received since the last op:gc-exports we sent for it. */
  count: number;
  /** Engine-internal users (a resolver we have yet to answer). */
  pins: number;
  /** The presence handed to the vat, weakly held. */
  presence: { deref(): object | undefined } | undefined;
  /** Bumped per presence, so a late finalization of an old one is ignored. */
  generation: number;
  /** For a promise import: settles it when our op:listen is answered. */
  kit: { resolve(v: unknown): void; reject(r: unknown): void } | undefined;
}

/** Answers to the peer's questions. Positions chosen by the peer. */
export type AnswerTable = Map<AnswerPos, Promise<unknown>>;
