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
