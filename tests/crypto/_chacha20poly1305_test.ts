import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { open, seal } from "../../crypto/_chacha20poly1305.ts";

const bytes = (n: number) => new Uint8Array(randomBytes(n));

function nodeSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, {
    authTagLength: 16,
  });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  const out = new Uint8Array(plaintext.length + 16);
  out.set(body);
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

function nodeOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  const split = sealed.length - 16;
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, {
    authTagLength: 16,
  });
  decipher.setAuthTag(sealed.subarray(split));
  decipher.setAAD(ad, { plaintextLength: split });
  const body = decipher.update(sealed.subarray(0, split));
  decipher.final();
  return new Uint8Array(body);
}

Deno.test("seal() agrees with node:crypto for every plaintext length across blocks and ad lengths", () => {
  for (let length = 0; length <= 200; length++) {
    for (const adLength of [0, 1, 15, 16, 17, 32, 33]) {
      const key = bytes(32);
      const nonce = bytes(12);
      const plaintext = bytes(length);
      const ad = bytes(adLength);
      const out = new Uint8Array(length + 16);
      assert.deepEqual(
        seal(key, nonce, plaintext, ad, out),
        nodeSeal(key, nonce, plaintext, ad),
        `length ${length} ad ${adLength}`,
      );
    }
  }
});

Deno.test("open() opens what node:crypto sealed, and node opens what seal() made", () => {
  for (let length = 0; length <= 130; length += 13) {
    const key = bytes(32);
    const nonce = bytes(12);
    const plaintext = bytes(length);
    const ad = bytes(length % 40);
    assert.deepEqual(
      open(key, nonce, nodeSeal(key, nonce, plaintext, ad), ad),
      plaintext,
    );
    const sealed = seal(key, nonce, plaintext, ad, new Uint8Array(length + 16));
    assert.deepEqual(nodeOpen(key, nonce, sealed, ad), plaintext);
  }
});

Deno.test("open() returns null when any byte of the message, tag or ad changes", () => {
  const key = bytes(32);
  const nonce = bytes(12);
  const ad = bytes(12);
  const sealed = seal(key, nonce, bytes(40), ad, new Uint8Array(56));
  for (let i = 0; i < sealed.length; i++) {
    const bad = sealed.slice();
    bad[i] ^= 0x01;
    assert.equal(open(key, nonce, bad, ad), null, `byte ${i}`);
  }
  const badAd = ad.slice();
  badAd[0] ^= 0x80;
  assert.equal(open(key, nonce, sealed, badAd), null);
  assert.notEqual(open(key, nonce, sealed, ad), null);
});

Deno.test("Poly1305 handles accumulators at the top of the field (all-ones blocks)", () => {
  // Blocks of 0xff push h towards 2^130 - 5, exercising the final reduction.
  for (let trial = 0; trial < 64; trial++) {
    const key = bytes(32);
    const nonce = bytes(12);
    const plaintext = new Uint8Array(16 * (1 + (trial % 8))).fill(0xff);
    const ad = new Uint8Array(trial % 33).fill(0xff);
    assert.deepEqual(
      seal(key, nonce, plaintext, ad, new Uint8Array(plaintext.length + 16)),
      nodeSeal(key, nonce, plaintext, ad),
    );
  }
});
