import assert from "node:assert/strict";
import { fromSyrup, toSyrup } from "../../protocol/model.ts";
import { MalformedValueError } from "../../protocol/errors.ts";
import {
  type OCapNPeer,
  type OCapNSturdyRef,
  parseSturdyRefUri,
} from "../../protocol/locator.ts";
import { decode, encode } from "../../protocol/syrup/mod.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../../protocol/syrup/value.ts";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
} from "./captp/_harness.ts";

const utf8 = new TextEncoder();
const swiss = utf8.encode("JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ");
const peer = (): OCapNPeer => ({
  transport: "tcp-testing-only",
  designator: "carol",
  hints: { host: "127.0.0.1", port: "22045" },
});
const sturdy = (): OCapNSturdyRef => ({ peer: peer(), swissNum: swiss });

// The draft's records, spelled out by hand rather than by locator.ts.
const PEER_RECORD = record(
  "ocapn-peer",
  Symbol.for("tcp-testing-only"),
  "carol",
  new Map([["host", "127.0.0.1"], ["port", "22045"]]),
);
const STURDY_RECORD = record("ocapn-sturdyref", PEER_RECORD, swiss);

/** Passes `value` through Syrup bytes the way a message does. */
const roundTrip = (value: unknown) => fromSyrup(decode(encode(toSyrup(value))));

Deno.test("toSyrup() sends a sturdyref as <ocapn-sturdyref <ocapn-peer ...> swiss-num>, not as a struct", () => {
  assert.deepEqual(encode(toSyrup(sturdy())), encode(STURDY_RECORD));
  assert.deepEqual(encode(toSyrup(peer())), encode(PEER_RECORD));
  // A URI parsed into a sturdyref goes the same way.
  const uri =
    "ocapn://carol.tcp-testing-only/s/JadQ0%2B%2BRzsD4M%2B40uLxTWVaVqM10DcBJ?host=127.0.0.1&port=22045";
  assert.deepEqual(
    encode(toSyrup(parseSturdyRefUri(uri))),
    encode(STURDY_RECORD),
  );
  // Without hints the peer's hints field is false (Locators.md).
  const bare = { transport: "onion", designator: "xyz", hints: {} };
  assert.deepEqual(
    toSyrup(bare),
    record("ocapn-peer", Symbol.for("onion"), "xyz", false),
  );
});

Deno.test("fromSyrup() reads both locator records back as the same sturdyref and peer shapes", () => {
  assert.deepEqual(fromSyrup(STURDY_RECORD), sturdy());
  assert.deepEqual(fromSyrup(PEER_RECORD), peer());
  const nested = {
    where: sturdy(),
    also: [peer(), { deeper: sturdy() }],
    n: 1n,
  };
  assert.deepEqual(roundTrip(nested), nested);
  // The draft's text form (swiss-num a string) reads as bytes.
  const text = record(
    "ocapn-sturdyref",
    PEER_RECORD,
    "JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ",
  );
  assert.deepEqual(fromSyrup(text), sturdy());
});

Deno.test("toSyrup() keeps near-misses of the locator shapes as structs", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["an extra key", { ...sturdy(), note: "x" }],
    ["a string swiss number", { peer: peer(), swissNum: "abc" }],
    ["a peer without hints", { transport: "tcp", designator: "x" }],
    ["hints that are not an object", {
      transport: "tcp",
      designator: "x",
      hints: "h",
    }],
    ["a designator that is not a string", {
      transport: "tcp",
      designator: 1n,
      hints: {},
    }],
  ];
  for (const [name, value] of cases) {
    const out = toSyrup(value);
    assert.ok(out instanceof Map, `${name} should stay a struct`);
  }
  // A struct of another sturdyref's shape but with a symbol key stays
  // data and is refused as data is.
  assert.throws(
    () => toSyrup({ ...sturdy(), [Symbol.for("k")]: 1n }),
    /symbol keys/,
  );
});

Deno.test("toSyrup() refuses a locator-shaped value with a bad field, naming where it is", () => {
  const badPeer = { transport: "a.b", designator: "x", hints: {} };
  assert.throws(
    () => toSyrup({ where: { peer: badPeer, swissNum: swiss } }),
    (e: unknown) =>
      e instanceof TypeError &&
      /Transport must not contain "\."/.test(e.message) &&
      /at value\.where$/.test(e.message),
  );
  assert.throws(
    () => toSyrup([{ transport: "tcp", designator: "x", hints: { port: 1n } }]),
    /Hint "port" must be a string, got 1n at value\[0\]$/,
  );
});

Deno.test("fromSyrup() refuses a malformed locator record with the path to it", () => {
  const cases: [SyrupValue, RegExp][] = [
    [
      record("ocapn-sturdyref", PEER_RECORD),
      /takes 2 fields, got 1 at value\[0\]$/,
    ],
    [
      record("ocapn-sturdyref", PEER_RECORD, 5n),
      /Swiss number must be bytes or a string.* at value\[0\]\.swissNum$/,
    ],
    [
      record("ocapn-peer", "tcp", "x", false),
      /Transport must be a symbol.* at value\[0\]\.transport$/,
    ],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => fromSyrup([bad]),
      (e: unknown) =>
        e instanceof MalformedValueError && message.test(e.message),
      String(message),
    );
  }
});

/** Every record labelled `label` inside a decoded message. */
function recordsIn(value: unknown, label: string, out: SyrupRecord[] = []) {
  if (value instanceof SyrupRecord) {
    if (value.label === Symbol.for(label)) out.push(value);
    for (const field of value.fields) recordsIn(field, label, out);
  } else if (Array.isArray(value)) {
    for (const item of value) recordsIn(item, label, out);
  } else if (value instanceof Map) {
    for (const item of value.values()) recordsIn(item, label, out);
  }
  return out;
}

Deno.test("a sturdyref passed as an argument and returned as an answer crosses as <ocapn-sturdyref> both ways", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob);
  await h.settle();
  const seen: unknown[] = [];
  const echo = a.fetch(bob.directory.swiss.publish(far({
    keep: (ref: unknown) => (seen.push(ref), { kept: ref }),
  })));
  await h.settle();
  const wire: SyrupRecord[] = [];
  const answer = send(await echo, "keep", sturdy());
  // Pump by hand, looking at every message's bytes on the way.
  for (let i = 0; i < 1000; i++) {
    await h.ticks();
    const next = h.queue[0];
    if (next === undefined) break;
    if (next.bytes !== undefined) {
      wire.push(...recordsIn(decode(next.bytes), "ocapn-sturdyref"));
    }
    h.pump();
  }
  assert.deepEqual(seen, [sturdy()], "Bob got a sturdyref, not a struct");
  assert.deepEqual(await answer, { kept: sturdy() });
  // One record out (the argument), one back (the answer's resolution).
  assert.equal(wire.length, 2);
  for (const r of wire) assert.deepEqual(encode(r), encode(STURDY_RECORD));
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});
