/**
 * Small shared pieces of the engine: the wire dialect and the resolver
 * object (CapTP draft, "op:deliver" resolve-me-desc).
 *
 * Dialects exist because the deployed peers disagree on spelling
 * (shared/ocapn-notes.md; /work/suite_notes.md): the draft, the test suite's
 * remove-op-deliver-only branch and its older add-referencing-tests branch.
 * Input is always read liberally; the dialect only picks what we emit.
 */

import type { GcStyle } from "./operations.ts";
import type { RemoteHandler } from "./host.ts";

export interface Dialect {
  /** How op:gc-exports / op:gc-answers are spelled. */
  readonly gc: GcStyle;
  /** Send `<op:deliver-only to args>` instead of `op:deliver ... false false`. */
  readonly deliverOnly: boolean;
  /** op:listen with 2 fields (draft) or 3 (a wants-partial flag). */
  readonly listenFields: 2 | 3;
}

export const DIALECTS = {
  draft: { gc: "plural", deliverOnly: false, listenFields: 2 },
  "suite-rod": { gc: "singular", deliverOnly: false, listenFields: 3 },
  "suite-refs": { gc: "scalar", deliverOnly: true, listenFields: 3 },
} as const satisfies Record<string, Dialect>;

export type DialectName = keyof typeof DIALECTS;

/**
 * An engine-internal object we export as a resolve-me-desc: the peer tells
 * it `fulfill value` or `break error` once; later calls are ignored.
 */
export class Resolver {
  #settle: (outcome: ["fulfill" | "break", unknown]) => void;
  #done = false;
  constructor(settle: (outcome: ["fulfill" | "break", unknown]) => void) {
    this.#settle = settle;
  }
  settle(outcome: ["fulfill" | "break", unknown]): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle(outcome);
  }
}

/**
 * A RemoteHandler that remembers what the engine made it for (a presence's
 * descriptor, a question) in private fields, so the engine can tell its own
 * presences and question promises apart by asking the host for their
 * handler (CapTPHost.handlerOf). Why not a WeakMap from promise to
 * question: V8's young-generation GC keeps the keys of such an entry alive
 * until the next full collection, and a question per call made every
 * call's objects survive into the old generation.
 */
export class OwnedHandler<T> {
  readonly #owner: object;
  readonly #what: T;
  readonly applyMethod: RemoteHandler["applyMethod"];
  readonly sendOnly: RemoteHandler["sendOnly"];

  constructor(owner: object, what: T, handler: RemoteHandler) {
    this.#owner = owner;
    this.#what = what;
    this.applyMethod = handler.applyMethod;
    this.sendOnly = handler.sendOnly;
  }

  /** What `handler` was made for, if `owner` made it. */
  static what<T>(handler: unknown, owner: object): T | undefined {
    return handler instanceof OwnedHandler && handler.#owner === owner
      ? handler.#what as T
      : undefined;
  }
}
