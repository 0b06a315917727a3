import assert from "node:assert/strict";
import { encode } from "../../../protocol/syrup/encode.ts";
import { record, SyrupRecord } from "../../../protocol/syrup/value.ts";
import type { SyrupValue } from "../../../protocol/syrup/value.ts";

const text = new TextEncoder();
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const TABLE: [string, SyrupValue, Uint8Array][] = [
  ["true", true, latin1("t")],
  ["false", false, latin1("f")],
  ["zero", 0n, latin1("0+")],
  ["a positive integer", 72n, latin1("72+")],
  ["a negative integer", -5n, latin1("5-")],
  ["a 16-digit integer", 1234567890123456n, latin1("1234567890123456+")],
  [
    "an integer just below 2^53",
    9007199254740983n,
    latin1("9007199254740983+"),
  ],
  [
    "an integer past 2^64",
    -(2n ** 70n),
    latin1("1180591620717411303424-"),
  ],
  ["a float64", 1.5, latin1("D\x3f\xf8\0\0\0\0\0\0")],
  ["negative zero", -0, latin1("D\x80\0\0\0\0\0\0\0")],
  ["infinity", -Infinity, latin1("D\xff\xf0\0\0\0\0\0\0")],
  ["NaN as canonical 7ff8", NaN, latin1("D\x7f\xf8\0\0\0\0\0\0")],
  ["bytes", new Uint8Array([1, 2, 3]), latin1("3:\x01\x02\x03")],
  ["empty bytes", new Uint8Array(0), latin1("0:")],
  ["an ASCII string", "hi", latin1('2"hi')],
  ["a non-ASCII string", "é😀", text.encode('6"é😀')],
  ["a long string", "é".repeat(100), text.encode(`200"${"é".repeat(100)}`)],
  ["a string with a BOM", "\ufeff", text.encode('3"\ufeff')],
  ["a symbol", Symbol.for("op:deliver"), latin1("10'op:deliver")],
  ["a list", [1n, "a", []], latin1('[1+1"a[]]')],
  [
    "a record",
    record("desc:export", 5n),
    latin1("<11'desc:export5+>"),
  ],
  [
    "a record with a bytes label",
    new SyrupRecord(latin1("zoo"), []),
    latin1("<3:zoo>"),
  ],
  [
    "a dictionary in canonical key order",
    new Map<SyrupValue, SyrupValue>([
      [Symbol.for("zz"), 1n],
      [Symbol.for("b"), 2n],
      [Symbol.for("a"), 3n],
      ["a", 4n],
    ]),
    latin1("{1\"a4+1'a3+1'b2+2'zz1+}"),
  ],
  [
    "a set in canonical order, a proper prefix first",
    new Set([latin1("ab"), latin1("a"), latin1("b")]),
    latin1("#1:a1:b2:ab$"),
  ],
];

for (const [name, value, expected] of TABLE) {
  Deno.test(`encode() writes ${name}`, () => {
    assert.deepStrictEqual(encode(value), expected);
  });
}

Deno.test("encode() output does not alias its scratch buffer", () => {
  const first = encode("first");
  encode("second");
  assert.deepStrictEqual(first, latin1('5"first'));
});

Deno.test("encode() grows past its initial buffer", () => {
  const big = new Uint8Array(100_000).fill(7);
  const out = encode([big, big]);
  assert.equal(out.length, 2 * (7 + 100_000) + 2);
  assert.equal(out[out.length - 2], 7);
});

const REFUSED: [string, unknown, RegExp][] = [
  ["an unregistered symbol", [Symbol("x")], /unregistered symbol.*at \$\[0\]/],
  ["a lone surrogate", { s: "a\ud800" }.s, /lone surrogate "a\\ud800" at \$/],
  [
    "a lone surrogate in a long string",
    "x".repeat(100) + "\udc00",
    /lone surrogate/,
  ],
  ["a plain object", record("r", 1n, [{}] as never), /at \$\.fields\[1\]\[0\]/],
  ["a function", [() => 1], /function/],
  ["null", null, /null at \$/],
  ["undefined", [1n, undefined], /undefined at \$\[1\]/],
  [
    "a bad dictionary value",
    new Map([[Symbol.for("k"), null as never]]),
    /null at \$\.get\(Symbol\(k\)\)/,
  ],
  [
    "duplicate dictionary keys",
    new Map([[latin1("a"), 1n], [latin1("a"), 2n]]),
    /Duplicate dictionary key at \$/,
  ],
  [
    "duplicate set items",
    new Set([[1n], [1n]]),
    /Duplicate set item at \$/,
  ],
];

for (const [name, value, message] of REFUSED) {
  Deno.test(`encode() refuses ${name} with a TypeError`, () => {
    assert.throws(() => encode(value as SyrupValue), (error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("encode() refuses a cyclic list with a TypeError", () => {
  const cycle: SyrupValue[] = [];
  cycle.push(cycle);
  assert.throws(() => encode(cycle), TypeError);
});

Deno.test("encode() recovers after a failure mid-dictionary", () => {
  assert.throws(() => encode(new Map([[1n, new Map([[2n, null as never]])]])));
  assert.deepStrictEqual(
    encode(new Map([[2n, 1n], [1n, 2n]])),
    latin1("{1+2+2+1+}"),
  );
});
