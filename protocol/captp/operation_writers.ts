/**
 * The operations and descriptors we write (CapTP draft, "Operations" and
 * "Descriptors"), one constructor per record, fields in the draft's order.
 *
 * Why it is separate from operations.ts: the reader there is liberal about
 * what it accepts from any peer, while writing is where we choose one
 * spelling (plural, singular or scalar GC; op:deliver-only for old peers),
 * and the perspective flips: positions are ours, descriptors name the
 * peer's tables (`desc:export n` is our ImportPos). operations.ts
 * re-exports everything here.
 */

import { SyrupRecord, type SyrupValue } from "../syrup/value.ts";
import type { ExportPos, ImportPos, QuestionPos } from "./positions.ts";

/**
 * Label symbols, looked up in the registry once per label rather than per
 * message (Symbol.for is a call into the engine's C++).
 */
const labels = new Map<string, symbol>();
function sym(name: string): symbol {
  let label = labels.get(name);
  if (label === undefined) {
    label = Symbol.for(name);
    labels.set(name, label);
  }
  return label;
}

const rec = (label: string, ...fields: SyrupValue[]) =>
  new SyrupRecord(sym(label), fields);

/**
 * Positions as Syrup integers: the small ones every session reuses come
 * from a table, as BigInt() is also a call into C++.
 */
const SMALL = 1024;
const smallIntegers = Array.from({ length: SMALL }, (_, i) => BigInt(i));
const integer = (n: number): bigint =>
  n >= 0 && n < SMALL ? smallIntegers[n] : BigInt(n);
const DESC_EXPORT = sym("desc:export");
const DESC_ANSWER = sym("desc:answer");
const DESC_IMPORT_OBJECT = sym("desc:import-object");
const DESC_IMPORT_PROMISE = sym("desc:import-promise");
const OP_DELIVER = sym("op:deliver");

/** The peer's export at our import position. */
export const descExport = (pos: ImportPos) =>
  new SyrupRecord(DESC_EXPORT, [integer(pos)]);
/** The peer's answer to our question. */
export const descAnswer = (pos: QuestionPos) =>
  new SyrupRecord(DESC_ANSWER, [integer(pos)]);
/** Our export, as the peer will import it. */
export const descImportObject = (pos: ExportPos) =>
  new SyrupRecord(DESC_IMPORT_OBJECT, [integer(pos)]);
export const descImportPromise = (pos: ExportPos) =>
  new SyrupRecord(DESC_IMPORT_PROMISE, [integer(pos)]);

export function opDeliver(
  to: SyrupRecord,
  args: SyrupValue[],
  options: { answerPos?: QuestionPos; resolveMeDesc?: SyrupRecord } = {},
): SyrupRecord {
  const answer = options.answerPos === undefined
    ? false
    : integer(options.answerPos);
  return new SyrupRecord(OP_DELIVER, [
    to,
    args,
    answer,
    options.resolveMeDesc ?? false,
  ]);
}

/** Three fields (a wants-partial flag) only when `wantsPartial` is given. */
export const opListen = (
  to: SyrupRecord,
  listenDesc: SyrupRecord,
  wantsPartial?: boolean,
) =>
  wantsPartial === undefined
    ? rec("op:listen", to, listenDesc)
    : rec("op:listen", to, listenDesc, wantsPartial);

/** The older spelling of `op:deliver ... false false`, for old peers. */
export const opDeliverOnly = (to: SyrupRecord, args: SyrupValue[]) =>
  rec("op:deliver-only", to, args);

export function opReference(
  type: "op:get" | "op:index" | "op:untag",
  receiver: SyrupRecord,
  options: { key: string | number; newAnswerPos: QuestionPos },
): SyrupRecord {
  const key = typeof options.key === "number"
    ? BigInt(options.key)
    : type === "op:untag"
    ? sym(options.key)
    : options.key;
  return rec(type, receiver, key, BigInt(options.newAnswerPos));
}

/**
 * How we spell the GC operations: "plural" is the draft
 * (`<op:gc-exports [pos ...] [delta ...]>`); "singular" is the
 * remove-op-deliver-only suite branch (singular label, lists); "scalar" is
 * the older suite (singular label, one position per message).
 */
export type GcStyle = "plural" | "singular" | "scalar";

export function opGcExports(
  positions: readonly ImportPos[],
  deltas: readonly number[],
  style: GcStyle,
): SyrupRecord[] {
  if (style === "scalar") {
    return positions.map((p, i) =>
      rec("op:gc-export", integer(p), integer(deltas[i]))
    );
  }
  const label = style === "plural" ? "op:gc-exports" : "op:gc-export";
  return [
    rec(label, positions.map(integer), deltas.map(integer)),
  ];
}

export function opGcAnswers(
  positions: readonly QuestionPos[],
  style: GcStyle,
): SyrupRecord[] {
  if (style === "scalar") {
    return positions.map((p) => rec("op:gc-answer", integer(p)));
  }
  const label = style === "plural" ? "op:gc-answers" : "op:gc-answer";
  return [rec(label, positions.map(integer))];
}

export const opAbort = (reason: string) => rec("op:abort", reason);

export const opStartSession = (
  version: string,
  options: { pubkey: SyrupValue; location: SyrupValue; signature: SyrupValue },
) =>
  rec(
    "op:start-session",
    version,
    options.pubkey,
    options.location,
    options.signature,
  );
