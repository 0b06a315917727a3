import assert from "node:assert/strict";
import { nativeCrypto, nobleCrypto } from "../../../crypto/mod.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  CipherState,
  MAX_NONCE,
  nonceBytes,
  SymmetricState,
} from "../../../netlayers/noise/symmetric.ts";

Deno.test("nonceBytes() is four zero bytes then the counter little-endian", () => {
  assert.deepEqual(
    nonceBytes(0x0102),
    Uint8Array.of(0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0),
  );
  assert.deepEqual(
    nonceBytes(2 ** 40 + 5),
    Uint8Array.of(0, 0, 0, 0, 5, 0, 0, 0, 0, 1, 0, 0),
  );
});

Deno.test("a keyless CipherState passes plaintext through", () => {
  const cs = new CipherState(nativeCrypto);
  const data = Uint8Array.of(1, 2);
  assert.equal(cs.encryptWithAd(new Uint8Array(0), data), data);
});

Deno.test("rekey() changes the key the same way on both backends", () => {
  const key = new Uint8Array(32).fill(9);
  const [a, b] = [
    new CipherState(nativeCrypto, key),
    new CipherState(nobleCrypto, key),
  ];
  a.rekey();
  b.rekey();
  const ad = new Uint8Array(0);
  const sealed = a.encryptWithAd(ad, Uint8Array.of(7));
  assert.deepEqual(b.decryptWithAd(ad, sealed), Uint8Array.of(7));
  const old = new CipherState(nativeCrypto, key);
  assert.throws(() => old.decryptWithAd(ad, sealed), NoiseError);
});

Deno.test("a failed decrypt leaves the nonce where it was", () => {
  const cs = new CipherState(nativeCrypto, new Uint8Array(32));
  assert.throws(
    () => cs.decryptWithAd(new Uint8Array(0), new Uint8Array(20)),
    NoiseError,
  );
  assert.equal(cs.nonce, 0);
});

Deno.test("the nonce is refused once it reaches the cap", () => {
  const cs = new CipherState(nativeCrypto, new Uint8Array(32));
  cs.setNonce(MAX_NONCE);
  assert.throws(
    () => cs.encryptWithAd(new Uint8Array(0), new Uint8Array(0)),
    (e: unknown) => e instanceof NoiseError && e.code === "nonce-exhausted",
  );
});

Deno.test("SymmetricState hashes a long protocol name and pads a short one", () => {
  const short = new SymmetricState(nativeCrypto, "Noise_XX", "BLAKE2s");
  const h = short.handshakeHash;
  assert.equal(h.length, 32);
  assert.deepEqual(h.subarray(0, 8), new TextEncoder().encode("Noise_XX"));
  const long = new SymmetricState(
    nativeCrypto,
    "Noise_XX_25519_ChaChaPoly_BLAKE2b",
    "BLAKE2b",
  );
  assert.equal(long.handshakeHash.length, 64);
  assert.throws(() => new SymmetricState(nativeCrypto, "x", "MD5"), RangeError);
});

Deno.test("destroy() zeroes the cipher so it no longer encrypts", () => {
  const cs = new CipherState(nativeCrypto, new Uint8Array(32).fill(1));
  cs.destroy();
  assert.equal(cs.hasKey(), false);
});
