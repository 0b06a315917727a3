import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { nativeCrypto, nobleCrypto } from "../../crypto/mod.ts";
import {
  ed25519PublicMatchesX25519,
  ed25519PublicToX25519,
  ed25519SeedToX25519,
} from "../../protocol/ed25519_to_x25519.ts";

Deno.test("ed25519PublicToX25519() matches @noble's toMontgomery", () => {
  for (let i = 0; i < 32; i++) {
    const { publicKey } = nativeCrypto.ed25519.generateKeyPair();
    assert.deepEqual(
      ed25519PublicToX25519(publicKey),
      ed25519.utils.toMontgomery(publicKey),
    );
  }
});

Deno.test("ed25519SeedToX25519() matches @noble's toMontgomerySecret", () => {
  for (const c of [nativeCrypto, nobleCrypto]) {
    const { secretKey } = c.ed25519.generateKeyPair();
    assert.deepEqual(
      ed25519SeedToX25519(c, secretKey),
      ed25519.utils.toMontgomerySecret(secretKey),
    );
  }
});

Deno.test("converted identity keys agree on an X25519 shared secret", () => {
  const c = nativeCrypto;
  const alice = c.ed25519.generateKeyPair();
  const bob = c.ed25519.generateKeyPair();
  const aliceX = ed25519SeedToX25519(c, alice.secretKey);
  const bobX = ed25519SeedToX25519(c, bob.secretKey);
  assert.deepEqual(
    c.x25519.publicKey(aliceX),
    ed25519PublicToX25519(alice.publicKey),
  );
  assert.deepEqual(
    c.x25519.sharedSecret(aliceX, ed25519PublicToX25519(bob.publicKey)),
    c.x25519.sharedSecret(bobX, ed25519PublicToX25519(alice.publicKey)),
  );
});

Deno.test("ed25519PublicToX25519() ignores the sign bit of x", () => {
  const { publicKey } = nativeCrypto.ed25519.generateKeyPair();
  const flipped = publicKey.slice();
  flipped[31] ^= 0x80;
  assert.deepEqual(
    ed25519PublicToX25519(flipped),
    ed25519PublicToX25519(publicKey),
  );
});

Deno.test("ed25519PublicToX25519() rejects the identity, a non-canonical y and a bad length", () => {
  const identity = new Uint8Array(32);
  identity[0] = 1;
  assert.throws(() => ed25519PublicToX25519(identity), RangeError);
  const big = new Uint8Array(32).fill(0xff);
  big[31] = 0x7f;
  assert.throws(() => ed25519PublicToX25519(big), RangeError);
  assert.throws(() => ed25519PublicToX25519(new Uint8Array(31)), TypeError);
  assert.throws(
    () => ed25519SeedToX25519(nativeCrypto, new Uint8Array(33)),
    TypeError,
  );
});

Deno.test("ed25519PublicMatchesX25519() accepts exactly the converted key", () => {
  for (let i = 0; i < 16; i++) {
    const { publicKey } = nativeCrypto.ed25519.generateKeyPair();
    const u = ed25519PublicToX25519(publicKey);
    assert.equal(ed25519PublicMatchesX25519(publicKey, u), true);
    const flipped = publicKey.slice();
    flipped[31] ^= 0x80;
    assert.equal(ed25519PublicMatchesX25519(flipped, u), true);
    const other = u.slice();
    other[i] ^= 1;
    assert.equal(ed25519PublicMatchesX25519(publicKey, other), false);
  }
});

Deno.test("ed25519PublicMatchesX25519() is false where conversion throws or u is non-canonical", () => {
  const identity = new Uint8Array(32);
  identity[0] = 1;
  for (
    const u of [new Uint8Array(32), Uint8Array.of(2, ...new Uint8Array(31))]
  ) {
    assert.equal(ed25519PublicMatchesX25519(identity, u), false);
  }
  const big = new Uint8Array(32).fill(0xff);
  big[31] = 0x7f;
  const { publicKey } = nativeCrypto.ed25519.generateKeyPair();
  assert.equal(ed25519PublicMatchesX25519(big, new Uint8Array(32)), false);
  // u + p has the same value mod p but is not the canonical encoding.
  const u = ed25519PublicToX25519(publicKey);
  const P = (1n << 255n) - 19n;
  let value = 0n;
  for (let i = 31; i >= 0; i--) value = (value << 8n) | BigInt(u[i]);
  // u < p < 2^255, so u + p still fits in 32 bytes.
  let wide = value + P;
  const encoded = new Uint8Array(32);
  for (let i = 0; i < 32; i++, wide >>= 8n) encoded[i] = Number(wide & 0xffn);
  assert.equal(ed25519PublicMatchesX25519(publicKey, encoded), false);
  assert.equal(ed25519PublicMatchesX25519(publicKey, u.subarray(1)), false);
});
