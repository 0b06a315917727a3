import assert from "node:assert/strict";
import { decodeBase32, encodeBase32 } from "../../protocol/base32.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

// RFC 4648 section 10, lowercased and without padding.
const RFC_VECTORS: [string, string][] = [
  ["", ""],
  ["f", "my"],
  ["fo", "mzxq"],
  ["foo", "mzxw6"],
  ["foob", "mzxw6yq"],
  ["fooba", "mzxw6ytb"],
  ["foobar", "mzxw6ytboi"],
];

Deno.test("encodeBase32() reproduces the RFC 4648 vectors, lowercase and unpadded", () => {
  for (const [plain, encoded] of RFC_VECTORS) {
    assert.equal(encodeBase32(utf8(plain)), encoded);
  }
});

Deno.test("decodeBase32() inverts encodeBase32() on the vectors and random keys", () => {
  for (const [plain, encoded] of RFC_VECTORS) {
    assert.deepEqual(decodeBase32(encoded), utf8(plain));
  }
  for (let n = 0; n < 40; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assert.deepEqual(decodeBase32(encodeBase32(bytes)), bytes);
  }
});

Deno.test("a 32-byte key encodes to a 52-character designator", () => {
  assert.equal(encodeBase32(new Uint8Array(32).fill(0xff)).length, 52);
});

Deno.test("decodeBase32() rejects uppercase, padding, bad lengths and stray bits", () => {
  assert.throws(() => decodeBase32("MZXW6"), SyntaxError);
  assert.throws(() => decodeBase32("my======"), /offset 2/);
  assert.throws(() => decodeBase32("m"), SyntaxError);
  assert.throws(() => decodeBase32("mzx"), SyntaxError);
  // "mz" carries 10 bits for one byte; the last two must be zero.
  assert.throws(() => decodeBase32("mz"), /padding bits/);
});
