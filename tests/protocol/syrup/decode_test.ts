import assert from "node:assert/strict";
import { decode, decodeAt } from "../../../protocol/syrup/decode.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import { SyrupRecord } from "../../../protocol/syrup/value.ts";
import type { SyrupValue } from "../../../protocol/syrup/value.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ZOO = new URL(
  "../../../../shared/vectors/syrup-zoo.bin",
  import.meta.url,
);

function animal(
  species: string,
  name: string,
  age: bigint,
  weight: number,
  alive: boolean,
  eats: string[],
): Map<SyrupValue, SyrupValue> {
  return new Map<SyrupValue, SyrupValue>([
    [Symbol.for("species"), latin1(species)],
    [Symbol.for("name"), name],
    [Symbol.for("age"), age],
    [Symbol.for("weight"), weight],
    [Symbol.for("alive?"), alive],
    [Symbol.for("eats"), new Set(eats.map(latin1))],
  ]);
}

Deno.test("decode() reads the zoo vector as the documented record", () => {
  const bytes = Deno.readFileSync(ZOO);
  const zoo = decode(bytes);
  assert.ok(zoo instanceof SyrupRecord);
  assert.deepStrictEqual(zoo.label, latin1("zoo"));
  assert.equal(zoo.fields.length, 2);
  assert.equal(zoo.fields[0], "The Grand Menagerie");
  assert.deepStrictEqual(zoo.fields[1], [
    animal("cat", "Tabatha", 12n, 8.2, true, ["mice", "fish", "kibble"]),
    animal("monkey", "George", 6n, 17.24, false, ["bananas", "insects"]),
    animal("ghost", "Casper", -12n, -34.5, false, []),
  ]);
});

Deno.test("encode() reproduces the zoo vector byte for byte", () => {
  const bytes = Deno.readFileSync(ZOO);
  assert.deepStrictEqual(encode(decode(bytes)), bytes);
});

const ACCEPTED: [string, string, SyrupValue][] = [
  ["a float32", "F\x3f\xc0\x00\x00", 1.5],
  ["canonical float32 NaN", "F\x7f\xc0\x00\x00", NaN],
  ["a 20-digit integer", "12345678901234567890-", -12345678901234567890n],
  ["a record with a non-symbol label", "<1+2+>", new SyrupRecord(1n, [2n])],
  ["an empty set", "#$", new Set()],
  ["a string holding a BOM", '3"\xef\xbb\xbf', "\ufeff"],
];

for (const [name, input, expected] of ACCEPTED) {
  Deno.test(`decode() accepts ${name}`, () => {
    assert.deepStrictEqual(decode(latin1(input)), expected);
  });
}

Deno.test("decode() copies bytes out of its input", () => {
  const input = latin1("3:abc");
  const value = decode(input) as Uint8Array;
  input[2] = 0x7a;
  assert.deepStrictEqual(value, latin1("abc"));
});

// [rule, input, offset the message must name, options]
const REJECTED: [string, string, number, object?][] = [
  ["an empty input", "", 0],
  ["trailing bytes", "t1+", 1],
  ["an unknown type byte", "[tx]", 2],
  ["an unexpected closing byte", "]", 0],
  ["a non-canonical integer (leading zero)", "[012+]", 1],
  ["a length with a leading zero", "01:a", 0],
  ["a negative zero integer", "0-", 0],
  ["digits with no type marker", "12x", 2],
  ["a truncated integer", "12", 0],
  ["a truncated bytes payload", "5:abc", 0],
  ["a truncated string", '4"ab', 0],
  ["a truncated float64", "D\x00\x00", 0],
  ["a truncated float32", "F\x00", 0],
  ["an unclosed list", "[1+2+", 5],
  ["an unclosed dictionary", "{1'a", 4],
  ["a record without a label", "<>", 0],
  ["a non-canonical NaN", "D\x7f\xf8\x00\x00\x00\x00\x00\x01", 0],
  ["a negative NaN", "D\xff\xf8\x00\x00\x00\x00\x00\x00", 0],
  ["a non-canonical float32 NaN", "F\x7f\xc0\x00\x01", 0],
  ["unsorted dictionary keys", "{1'b1+1'a2+}", 6],
  ["a longer key before its prefix", "{2'ab1+1'a2+}", 7],
  ["duplicate dictionary keys", "{1'a1+1'a2+}", 6],
  [
    "dictionary keys equal after decoding",
    "{D?\xf0\x00\x00\x00\x00\x00\x00tF?\x80\x00\x00f}",
    11,
  ],
  ["a negative zero dictionary key", "{D\x80\x00\x00\x00\x00\x00\x00\x00t}", 1],
  ["unsorted set items", "#1:b1:a$", 4],
  ["duplicate set items", "#1:a1:a$", 4],
  ["invalid UTF-8 in a string", '2"\xc3\x28', 2],
  ["an overlong UTF-8 encoding", '2"\xc0\xaf', 2],
  ["an encoded lone surrogate in a string", '3"\xed\xa0\x80', 2],
  ["invalid UTF-8 in a symbol", "1'\xff", 2],
  ["a length past maxLength", "[11:hello world]", 1, { maxLength: 10 }],
  ["a huge length before allocating", "99999999999:", 0],
  ["nesting past maxDepth", "[[[[]]]]", 3, { maxDepth: 3 }],
  ["an integer past maxIntegerDigits", "123456+", 0, { maxIntegerDigits: 5 }],
];

for (const [rule, input, offset, options] of REJECTED) {
  Deno.test(`decode() rejects ${rule}`, () => {
    assert.throws(() => decode(latin1(input), options), (error) => {
      assert.ok(error instanceof SyntaxError, String(error));
      assert.match(error.message, new RegExp(`at byte ${offset}$`));
      return true;
    });
  });
}

Deno.test("decode() rejects nesting past the default maxDepth of 128", () => {
  const ok = "[".repeat(128) + "]".repeat(128);
  assert.equal(encode(decode(latin1(ok))).length, 256);
  assert.throws(
    () => decode(latin1("[" + ok + "]")),
    /maxDepth 128 at byte 128$/,
  );
});

Deno.test("decodeAt() reads one value and reports where it ended", () => {
  const bytes = latin1("xx[1+]t");
  assert.deepStrictEqual(decodeAt(bytes, 2), { value: [1n], end: 6 });
  assert.deepStrictEqual(decodeAt(bytes, 6), { value: true, end: 7 });
  assert.throws(() => decodeAt(bytes, 8), RangeError);
});
