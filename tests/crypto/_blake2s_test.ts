import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { blake2s as nobleBlake2s } from "@noble/hashes/blake2.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { blake2s, hkdfBlake2s, hmacBlake2s } from "../../crypto/_blake2s.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("blake2s() reproduces RFC 7693 appendix B", () => {
  assert.equal(
    hex(blake2s([new TextEncoder().encode("abc")])),
    "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
  );
});

Deno.test("blake2s() agrees with node:crypto on every length across three blocks", () => {
  for (let length = 0; length <= 200; length++) {
    const data = new Uint8Array(randomBytes(length));
    assert.equal(
      hex(blake2s([data])),
      createHash("blake2s256").update(data).digest("hex"),
      `length ${length}`,
    );
  }
});

Deno.test("blake2s() of parts equals blake2s() of their concatenation", () => {
  for (const length of [0, 1, 63, 64, 65, 128, 129, 1000]) {
    const data = new Uint8Array(randomBytes(length));
    const whole = hex(blake2s([data]));
    for (const cut of [0, 1, length >> 1, length - 1, length]) {
      if (cut < 0 || cut > length) continue;
      const parts = [
        data.subarray(0, cut),
        new Uint8Array(0),
        data.subarray(cut),
      ];
      assert.equal(hex(blake2s(parts)), whole, `length ${length} cut ${cut}`);
    }
  }
});

Deno.test("blake2s() returns a fresh array each call", () => {
  const a = blake2s([Uint8Array.of(1)]);
  const b = blake2s([Uint8Array.of(1)]);
  assert.notEqual(a, b);
  a.fill(0);
  assert.notDeepEqual(b, a);
});

Deno.test("hmacBlake2s() agrees with @noble for keys and data across block edges", () => {
  for (const keyLength of [0, 1, 32, 63, 64, 65, 100]) {
    for (const length of [0, 1, 31, 32, 33, 63, 64, 65, 128, 129, 200]) {
      const key = new Uint8Array(randomBytes(keyLength));
      const data = new Uint8Array(randomBytes(length));
      assert.equal(
        hex(hmacBlake2s(key, data)),
        hex(hmac(nobleBlake2s, key, data)),
        `key ${keyLength} data ${length}`,
      );
    }
  }
});

Deno.test("hkdfBlake2s() is RFC 5869 with the chaining key as salt and no info", () => {
  for (const ikmLength of [0, 1, 32, 64, 65]) {
    for (const count of [2, 3]) {
      const ck = new Uint8Array(randomBytes(32));
      const ikm = new Uint8Array(randomBytes(ikmLength));
      const expected = hkdf(
        nobleBlake2s,
        ikm,
        ck,
        new Uint8Array(0),
        32 * count,
      );
      const outs = hkdfBlake2s(ck, ikm, count);
      assert.equal(outs.length, count);
      assert.equal(outs.map(hex).join(""), hex(expected));
    }
  }
});
