/**
 * The stateless parts of the hostile-peer generator (_hostile.ts): the
 * vocabulary it draws from (methods, swiss numbers, descriptor labels,
 * positions past every limit) and the values that need no knowledge of the
 * session's tables (atoms, handoff certificates, a second
 * op:start-session, an oversized message). CapTP draft, "Operations" and
 * "Descriptors"; Model.md for the values.
 */

import { encode } from "../../../protocol/syrup/encode.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../../../protocol/syrup/value.ts";
import { peerToSyrup } from "../../../protocol/locator.ts";
import { arbitraryValue, type Prng } from "../syrup/_arbitrary.ts";
import { hello } from "./_helpers.ts";

/** Methods of the fuzz vat's objects (hostile_test.ts), plus strangers. */
export const METHODS = [
  "echo",
  "self",
  "pair",
  "data",
  "tagged",
  "fail",
  "later",
  "never",
  "call",
  "call-only",
  "fetch",
  "deposit-gift",
  "withdraw-gift",
  "fulfill",
  "break",
  "no-such-method",
];

/** Swiss numbers the fuzz vat publishes, and one it does not. */
export const SWISS = ["thing", "fn", "data", "unknown"];

const DESC_LABELS = [
  "desc:export",
  "desc:answer",
  "desc:import-object",
  "desc:import-promise",
];
const OTHER_LABELS = [
  "desc:sig-envelope",
  "desc:handoff-give",
  "desc:handoff-receive",
  "desc:tagged",
  "desc:error",
  "desc:bogus",
  "ocapn-peer",
  "ocapn-sturdyref",
  "void",
  "null",
  "op:deliver",
];

/** Positions past every limit and values that are not positions at all. */
export const WEIRD_POSITIONS: SyrupValue[] = [
  -1n,
  -(2n ** 64n),
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 80n,
  1.0,
  0.5,
  -0,
  NaN,
  "1",
  new Uint8Array([1]),
  false,
  true,
  Symbol.for("a"),
  [1n],
  record("desc:export", 1n),
];

const MAX_BYTES = 1024 * 1024;

export const sym = (name: string) => Symbol.for(name);
export const utf8 = new TextEncoder();

/** Any descriptor: right or wrong label, right or wrong arity. */
export function anyDescriptor(r: Prng): SyrupValue {
  const label = r.next() < 0.7 ? r.pick(DESC_LABELS) : r.pick(OTHER_LABELS);
  const arity = r.next() < 0.7 ? 1 : r.int(4);
  const fields = Array.from(
    { length: arity },
    () => r.next() < 0.8 ? BigInt(r.int(6)) : r.pick(WEIRD_POSITIONS),
  );
  return record(label, ...fields);
}

/** A leaf OCapN value (a bad error message when hostile). */
export function atom(r: Prng, hostile: boolean): SyrupValue {
  switch (r.int(8)) {
    case 0:
      return BigInt(r.int(100)) - 10n;
    case 1:
      return r.next() * 100;
    case 2:
      return r.pick(["", "hello", "x".repeat(r.int(50))]);
    case 3:
      return utf8.encode(r.pick(SWISS));
    case 4:
      return sym(r.pick(METHODS));
    case 5:
      return r.next() < 0.5;
    case 6:
      return record(r.pick(["void", "null"]));
    default:
      return record("desc:error", hostile ? 7n : "oops");
  }
}

/** A handoff certificate: plausible shape, keys and signature unchecked. */
export function handoff(r: Prng): SyrupValue {
  const key = [sym("public-key"), [
    sym("ecc"),
    [sym("curve"), sym("Ed25519")],
    [sym("flags"), sym("eddsa")],
    [sym("q"), r.bytes(32)],
  ]];
  const sig = [sym("sig-val"), [sym("eddsa"), [sym("r"), r.bytes(32)], [
    sym("s"),
    r.bytes(32),
  ]]];
  const location = peerToSyrup({
    transport: "memory",
    designator: r.pick(["carol", "bob", "mallory", "nobody"]),
    hints: {},
  });
  const give = record(
    "desc:sig-envelope",
    record(
      "desc:handoff-give",
      key,
      location,
      r.bytes(32),
      r.bytes(32),
      r.bytes(r.int(9)),
    ),
    sig,
  );
  if (r.next() < 0.5) return give;
  return record(
    "desc:sig-envelope",
    record(
      "desc:handoff-receive",
      r.bytes(32),
      r.bytes(32),
      BigInt(r.int(3)),
      give,
    ),
    sig,
  );
}

/** A second op:start-session: a valid one, or one with a wrong version or fields. */
export function startSession(r: Prng): SyrupRecord {
  if (r.next() < 0.5) {
    const location = {
      transport: "memory",
      designator: "mallory",
      hints: {},
    };
    return decode(hello(location)) as SyrupRecord;
  }
  return record(
    "op:start-session",
    r.pick(["1.0", "0.9"]),
    arbitraryValue(r, 2),
    arbitraryValue(r, 2),
    arbitraryValue(r, 2),
  );
}

/** An op:deliver-only past every message-size limit. */
export function oversized(): Uint8Array {
  return encode(record(
    "op:deliver-only",
    record("desc:export", 0n),
    [sym("echo"), new Uint8Array(MAX_BYTES)],
  ));
}

/** Calls `visit` on every record inside `value`. */
export function walk(
  value: SyrupValue,
  visit: (rec: SyrupRecord) => void,
): void {
  if (value instanceof SyrupRecord) {
    visit(value);
    for (const f of value.fields) walk(f, visit);
  } else if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      walk(k, visit);
      walk(v, visit);
    }
  }
}
