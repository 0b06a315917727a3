/**
 * Locators as Syrup records (protocol/locator.ts, the draft's
 * `<ocapn-peer ...>` and `<ocapn-sturdyref ...>`): writing, reading back,
 * naming the malformed field, and samePeer(). The ocapn:// URI form is in
 * locator_uri_test.ts.
 */
import assert from "node:assert/strict";
import { throwsExactly } from "../_assert.ts";
import {
  peerFromSyrup,
  peerToSyrup,
  samePeer,
  sturdyRefFromSyrup,
  sturdyRefToSyrup,
} from "../../protocol/locator.ts";
import { MalformedValueError } from "../../protocol/errors.ts";
import {
  decode,
  encode,
  record,
  type SyrupValue,
} from "../../protocol/syrup/mod.ts";
import { bare, swiss, tcp } from "./_locator_fixtures.ts";

Deno.test("peerToSyrup() writes <ocapn-peer transport designator hints>", () => {
  assert.deepEqual(
    peerToSyrup(tcp),
    record(
      "ocapn-peer",
      Symbol.for("tcp-testing-only"),
      "abc",
      new Map([["host", "127.0.0.1"], ["port", "22045"]]),
    ),
  );
});

Deno.test("peerToSyrup() writes false for empty hints, as the draft and Endo do", () => {
  assert.deepEqual(
    new TextDecoder().decode(encode(peerToSyrup(bare))),
    `<10'ocapn-peer5'onion3"xyzf>`,
  );
});

Deno.test("sturdyRefToSyrup() writes the swiss number as bytes", () => {
  assert.deepEqual(
    sturdyRefToSyrup({ peer: bare, swissNum: swiss }),
    record("ocapn-sturdyref", peerToSyrup(bare), swiss),
  );
});

Deno.test("peer and sturdyref records round trip through the Syrup codec", () => {
  for (const peer of [tcp, bare]) {
    assert.deepEqual(peerFromSyrup(decode(encode(peerToSyrup(peer)))), peer);
    const ref = { peer, swissNum: swiss };
    assert.deepEqual(
      sturdyRefFromSyrup(decode(encode(sturdyRefToSyrup(ref)))),
      ref,
    );
  }
});

Deno.test("peerFromSyrup() accepts an empty struct and symbol hint keys", () => {
  const fields = [Symbol.for("onion"), "xyz"];
  assert.deepEqual(
    peerFromSyrup(record("ocapn-peer", ...fields, new Map())),
    bare,
  );
  const symbolKeys = new Map([[Symbol.for("host"), "h"]]);
  assert.deepEqual(
    peerFromSyrup(record("ocapn-peer", ...fields, symbolKeys)).hints,
    { host: "h" },
  );
});

Deno.test("sturdyRefFromSyrup() accepts a string swiss number and returns bytes", () => {
  const ref = sturdyRefFromSyrup(
    record(
      "ocapn-sturdyref",
      peerToSyrup(bare),
      "JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ",
    ),
  );
  assert.deepEqual(ref, { peer: bare, swissNum: swiss });
});

Deno.test("peerFromSyrup() and sturdyRefFromSyrup() name the malformed field", () => {
  const peer = (t: SyrupValue, d: SyrupValue, h: SyrupValue) =>
    record("ocapn-peer", t, d, h);
  const onion = Symbol.for("onion");
  const cases: [SyrupValue, RegExp][] = [
    [
      record("ocapn-node", "x", onion, false),
      /Expected a <ocapn-peer> record, got a record <'ocapn-node \.\.\.> at ocapn-peer$/,
    ],
    [record("ocapn-peer", onion, "x"), /takes 3 fields, got 2 at ocapn-peer$/],
    [
      peer("onion", "x", false),
      /Transport must be a symbol without "\.", got "onion" at ocapn-peer\.transport$/,
    ],
    [
      peer(Symbol.for("a.b"), "x", false),
      /got 'a\.b at ocapn-peer\.transport$/,
    ],
    [peer(Symbol.for(""), "x", false), /at ocapn-peer\.transport$/],
    [
      peer(onion, 5n, false),
      /Designator must be a non-empty string, got 5n at ocapn-peer\.designator$/,
    ],
    [peer(onion, "", false), /at ocapn-peer\.designator$/],
    [
      peer(onion, "x", true),
      /Hints must be a struct or false, got true at ocapn-peer\.hints$/,
    ],
    [
      peer(onion, "x", new Map([[1n, "v"]])),
      /Hint key must be a string, got 1n at ocapn-peer\.hints$/,
    ],
    [
      peer(onion, "x", new Map([["port", 22045n]])),
      /Hint value must be a string, got 22045n at ocapn-peer\.hints\.port$/,
    ],
  ];
  for (const [value, message] of cases) {
    throwsExactly(() => peerFromSyrup(value), MalformedValueError, message);
  }
  throwsExactly(
    () =>
      sturdyRefFromSyrup(
        record("ocapn-sturdyref", peer(onion, 1n, false), swiss),
      ),
    MalformedValueError,
    /at ocapn-sturdyref\.peer\.designator$/,
  );
  throwsExactly(
    () => sturdyRefFromSyrup(record("ocapn-sturdyref", peerToSyrup(bare), 7n)),
    MalformedValueError,
    /Swiss number must be bytes or a string, got 7n at ocapn-sturdyref\.swissNum$/,
  );
  throwsExactly(
    () => sturdyRefFromSyrup(peerToSyrup(bare)),
    MalformedValueError,
    /Expected a <ocapn-sturdyref> record/,
  );
});

Deno.test("peerToSyrup() refuses a locator the draft cannot carry", () => {
  throwsExactly(
    () => peerToSyrup({ ...bare, transport: "a.b" }),
    TypeError,
    /Transport must not contain "\."/,
  );
  throwsExactly(
    () => peerToSyrup({ ...bare, designator: "" }),
    TypeError,
    /Designator must be a non-empty string/,
  );
  const hints = { port: 1 } as unknown as Record<string, string>;
  throwsExactly(
    () => peerToSyrup({ ...bare, hints }),
    TypeError,
    /Hint "port" must be a string, got 1/,
  );
});

Deno.test("samePeer() compares transport and designator and ignores hints", () => {
  assert.ok(samePeer(tcp, { ...tcp, hints: {} }));
  assert.ok(samePeer(tcp, { ...tcp, hints: { host: "10.0.0.1", port: "1" } }));
  assert.ok(!samePeer(tcp, { ...tcp, designator: "abd" }));
  assert.ok(!samePeer(tcp, { ...tcp, transport: "onion" }));
});
