/**
 * Every CapTP operation and descriptor record, declared as data in the
 * draft's words and field order (CapTP draft, "Operations" and
 * "Descriptors"; shared/ocapn-notes.md "CapTP"), with the reader from a
 * SyrupRecord to a typed operation. The writers are in operation_writers.ts
 * and re-exported here, so this stays the one place to import from.
 *
 * Why it exists: so the wire vocabulary reads like the spec's message list
 * and the session engine never touches raw fields. The reader is liberal in
 * what interoperates (op:deliver-only, two- and three-field op:listen,
 * singular and plural GC labels, a scalar or a list in GC fields) and strict
 * about field types: a wrong type is a ProtocolViolationError naming the
 * operation, the field and the value. A descriptor read from the peer names
 * our tables (`desc:export n` is our ExportPos).
 */

import { SyrupRecord, type SyrupValue } from "../syrup/value.ts";
import { quote } from "../errors.ts";
import { ProtocolViolationError } from "./errors.ts";
import {
  type AnswerPos,
  type ExportPos,
  type ImportPos,
  MAX_POSITION,
} from "./positions.ts";

/** Field names of each record, as the spec lists them. */
export const OPERATIONS = {
  "op:start-session": [
    "captp-version",
    "session-pubkey",
    "acceptable-location",
    "acceptable-location-sig",
  ],
  "op:deliver": ["to-desc", "args", "answer-pos", "resolve-me-desc"],
  /** Older drafts; read only, folded into op:deliver with `false false`. */
  "op:deliver-only": ["to-desc", "args"],
  /** Two fields in the draft; a third wants-partial flag from older peers. */
  "op:listen": ["to-desc", "listen-desc", "wants-partial"],
  "op:get": ["receiver-desc", "field", "new-answer-pos"],
  "op:index": ["receiver-desc", "index", "new-answer-pos"],
  "op:untag": ["receiver-desc", "tag", "new-answer-pos"],
  "op:gc-exports": ["export-positions", "wire-deltas"],
  "op:gc-answers": ["answer-positions"],
  "op:abort": ["reason"],
} as const;

export const DESCRIPTORS = {
  "desc:import-object": ["position"],
  "desc:import-promise": ["position"],
  "desc:export": ["position"],
  "desc:answer": ["position"],
  "desc:sig-envelope": ["object", "signature"],
  // Third-party handoffs (a later issue) read these; declared here so the
  // vocabulary is in one place.
  "desc:handoff-give": [
    "receiver-key",
    "exporter-location",
    "session",
    "gifter-side",
    "gift-id",
  ],
  "desc:handoff-receive": [
    "receiving-session",
    "receiving-side",
    "handoff-count",
    "signed-give",
  ],
} as const;

export type OpLabel = keyof typeof OPERATIONS;

/** The receiver of an incoming message: one of our exports or answers. */
export type TargetDesc =
  | { readonly type: "desc:export"; readonly position: ExportPos }
  | { readonly type: "desc:answer"; readonly position: AnswerPos };

/** An incoming reference the peer exports (a resolver, an argument). */
export interface ImportDesc {
  readonly type: "desc:import-object" | "desc:import-promise";
  readonly position: ImportPos;
}

export type Operation =
  | {
    readonly type: "op:start-session";
    readonly captpVersion: string;
    readonly sessionPubkey: SyrupValue;
    readonly acceptableLocation: SyrupValue;
    readonly acceptableLocationSig: SyrupValue;
  }
  | {
    readonly type: "op:deliver";
    readonly to: TargetDesc;
    readonly args: SyrupValue[];
    readonly answerPos: AnswerPos | false;
    readonly resolveMeDesc: ImportDesc | false;
  }
  | {
    readonly type: "op:listen";
    readonly to: TargetDesc;
    readonly listenDesc: ImportDesc;
    readonly wantsPartial: boolean;
  }
  | {
    readonly type: "op:get" | "op:index" | "op:untag";
    readonly receiverDesc: TargetDesc;
    /** Field name (op:get), list index (op:index) or tag (op:untag). */
    readonly key: string | number;
    readonly newAnswerPos: AnswerPos;
  }
  | {
    readonly type: "op:gc-exports";
    readonly exportPositions: ExportPos[];
    readonly wireDeltas: number[];
  }
  | { readonly type: "op:gc-answers"; readonly answerPositions: AnswerPos[] }
  | { readonly type: "op:abort"; readonly reason: string };

const sym = (name: string) => Symbol.for(name);
// Symbol-keyed maps, so that every message costs one map lookup per record
// instead of a property lookup keyed by a varying string.
const OPERATION_OF = new Map<symbol, OpLabel>();
for (const name of Object.keys(OPERATIONS) as OpLabel[]) {
  OPERATION_OF.set(sym(name), name);
}
// Older suite branches spell the GC operations in the singular.
OPERATION_OF.set(sym("op:gc-export"), "op:gc-exports");
OPERATION_OF.set(sym("op:gc-answer"), "op:gc-answers");
type DescLabel = keyof typeof DESCRIPTORS;
const DESCRIPTOR_OF = new Map<symbol, DescLabel>();
for (const name of Object.keys(DESCRIPTORS) as DescLabel[]) {
  DESCRIPTOR_OF.set(sym(name), name);
}

function fail(where: string, message: string): never {
  throw new ProtocolViolationError(`${where}: ${message}`);
}

/** A position from the wire, checked: a non-negative integer in range. */
function position(value: SyrupValue, where: string): number {
  // Converted once and compared as a number rather than by two mixed
  // bigint-number comparisons; anything past 2^53 converts past the limit.
  const n = typeof value === "bigint" ? Number(value) : -1;
  if (!(n >= 0 && n <= MAX_POSITION)) {
    fail(where, `expected a position, got ${quote(value)}`);
  }
  return n;
}

/** The label of a descriptor record with the right number of fields. */
function descriptor(value: SyrupValue, where: string): string {
  if (!(value instanceof SyrupRecord) || typeof value.label !== "symbol") {
    fail(where, `expected a descriptor, got ${quote(value)}`);
  }
  const label = DESCRIPTOR_OF.get(value.label);
  if (label === undefined) {
    fail(where, `unknown descriptor ${quote(value.label)}`);
  }
  const arity = DESCRIPTORS[label].length;
  if (value.fields.length !== arity) {
    fail(where, `<${label}> takes ${arity} fields, got ${value.fields.length}`);
  }
  return label;
}

/** `<desc:export n>` or `<desc:answer n>` read from the peer. */
export function readTarget(value: SyrupValue, where: string): TargetDesc {
  const label = descriptor(value, where);
  const field = (value as SyrupRecord).fields[0];
  if (label === "desc:export") {
    return { type: label, position: position(field, where) as ExportPos };
  }
  if (label === "desc:answer") {
    return { type: label, position: position(field, where) as AnswerPos };
  }
  return fail(where, `expected desc:export or desc:answer, got <${label}>`);
}

/** `<desc:import-object n>` or `<desc:import-promise n>` read from the peer. */
export function readImport(value: SyrupValue, where: string): ImportDesc {
  const label = descriptor(value, where);
  if (label !== "desc:import-object" && label !== "desc:import-promise") {
    fail(where, `expected desc:import-object or -promise, got <${label}>`);
  }
  const field = (value as SyrupRecord).fields[0];
  return { type: label, position: position(field, where) as ImportPos };
}

/** A GC field: a list of integers, or (oldest suites) one integer. */
function integers(value: SyrupValue, where: string): SyrupValue[] {
  if (typeof value === "bigint") return [value];
  if (!Array.isArray(value)) {
    fail(where, `expected a list of integers, got ${quote(value)}`);
  }
  return value;
}

/** Every message passes here: no string is built unless the count is wrong. */
function checkArity(
  label: string,
  length: number,
  one: number,
  other = one,
): void {
  if (length !== one && length !== other) {
    const allowed = one === other ? `${one}` : `${one} or ${other}`;
    fail(label, `takes ${allowed} fields, got ${length}`);
  }
}

/** Field names for error messages, built once rather than per message. */
const whereOf = (label: string) => ({
  toDesc: `${label} to-desc`,
  answerPos: `${label} answer-pos`,
  resolveMeDesc: `${label} resolve-me-desc`,
});
const WHERE_DELIVER = whereOf("op:deliver");
const WHERE_DELIVER_ONLY = whereOf("op:deliver-only");

/**
 * Read one operation. ProtocolViolationError for anything that is not a
 * known operation with fields of the right types.
 */
export function readOperation(value: SyrupValue): Operation {
  if (!(value instanceof SyrupRecord) || typeof value.label !== "symbol") {
    fail("message", `expected an operation record, got ${quote(value)}`);
  }
  const label = OPERATION_OF.get(value.label);
  if (label === undefined) {
    fail("message", `unknown operation ${quote(value.label)}`);
  }
  const f = value.fields;
  switch (label) {
    case "op:start-session": {
      checkArity(label, f.length, 4);
      if (typeof f[0] !== "string") {
        fail(label, `captp-version must be a string, got ${quote(f[0])}`);
      }
      return {
        type: "op:start-session",
        captpVersion: f[0],
        sessionPubkey: f[1],
        acceptableLocation: f[2],
        acceptableLocationSig: f[3],
      };
    }
    case "op:deliver":
    case "op:deliver-only": {
      const only = label === "op:deliver-only";
      const where = only ? WHERE_DELIVER_ONLY : WHERE_DELIVER;
      checkArity(label, f.length, only ? 2 : 4);
      if (!Array.isArray(f[1])) {
        fail(label, `args must be a list, got ${quote(f[1])}`);
      }
      const answer = only || f[2] === false
        ? false
        : position(f[2], where.answerPos) as AnswerPos;
      const resolver = only || f[3] === false
        ? false
        : readImport(f[3], where.resolveMeDesc);
      return {
        type: "op:deliver",
        to: readTarget(f[0], where.toDesc),
        args: f[1],
        answerPos: answer,
        resolveMeDesc: resolver,
      };
    }
    case "op:listen": {
      checkArity(label, f.length, 2, 3);
      if (f.length === 3 && typeof f[2] !== "boolean") {
        fail(label, `wants-partial must be a boolean, got ${quote(f[2])}`);
      }
      return {
        type: "op:listen",
        to: readTarget(f[0], "op:listen to-desc"),
        listenDesc: readImport(f[1], "op:listen listen-desc"),
        wantsPartial: f[2] === true,
      };
    }
    case "op:get":
    case "op:index":
    case "op:untag":
      checkArity(label, f.length, 3);
      return {
        type: label as "op:get",
        receiverDesc: readTarget(f[0], `${label} receiver-desc`),
        key: readKey(label, f[1]),
        newAnswerPos: position(f[2], `${label} new-answer-pos`) as AnswerPos,
      };
    case "op:gc-exports": {
      checkArity(label, f.length, 2);
      const where = "op:gc-exports";
      const positions = integers(f[0], where).map((p) => position(p, where));
      const deltas = integers(f[1], where).map((d) => {
        const n = typeof d === "bigint" ? Number(d) : 0;
        if (!(n >= 1 && n <= MAX_POSITION)) {
          fail(where, `expected a positive wire delta, got ${quote(d)}`);
        }
        return n;
      });
      if (positions.length !== deltas.length) {
        fail(
          where,
          `${positions.length} positions but ${deltas.length} deltas`,
        );
      }
      return {
        type: "op:gc-exports",
        exportPositions: positions as ExportPos[],
        wireDeltas: deltas,
      };
    }
    case "op:gc-answers":
      checkArity(label, f.length, 1);
      return {
        type: "op:gc-answers",
        answerPositions: integers(f[0], label).map((p) =>
          position(p, label) as AnswerPos
        ),
      };
    case "op:abort":
      checkArity(label, f.length, 1);
      // Liberal: whatever the reason, the peer is leaving.
      return {
        type: "op:abort",
        reason: typeof f[0] === "string" ? f[0] : quote(f[0]),
      };
  }
}

function readKey(label: string, value: SyrupValue): string | number {
  if (label === "op:index") {
    if (typeof value !== "bigint" || value < 0n || value > MAX_POSITION) {
      fail(label, `index must be a non-negative integer, got ${quote(value)}`);
    }
    return Number(value);
  }
  // A field name or tag is a string in the draft, a symbol in some peers.
  if (typeof value === "string") return value;
  const name = typeof value === "symbol" ? Symbol.keyFor(value) : undefined;
  if (name === undefined) {
    fail(label, `expected a string or symbol, got ${quote(value)}`);
  }
  return name;
}

export * from "./operation_writers.ts";
