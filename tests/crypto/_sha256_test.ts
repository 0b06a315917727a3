import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { sha256 } from "../../crypto/_sha256.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256() reproduces the FIPS 180-4 examples", () => {
  assert.equal(
    hex(sha256(utf8("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hex(sha256(
      utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    )),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    hex(sha256(new Uint8Array(0))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("sha256() agrees with node:crypto on every length across four blocks", () => {
  for (let length = 0; length <= 260; length++) {
    const data = new Uint8Array(randomBytes(length));
    assert.equal(
      hex(sha256(data)),
      createHash("sha256").update(data).digest("hex"),
      `length ${length}`,
    );
  }
});

Deno.test("sha256() reads a view at its offset and returns a fresh array", () => {
  const backing = new Uint8Array(randomBytes(100));
  const view = backing.subarray(7, 77);
  assert.equal(
    hex(sha256(view)),
    createHash("sha256").update(view).digest("hex"),
  );
  const a = sha256(view);
  const b = sha256(view);
  assert.notEqual(a, b);
  assert.deepEqual(a, b);
});
