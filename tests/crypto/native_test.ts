import assert from "node:assert/strict";
import { nativeCrypto, nobleCrypto } from "../../crypto/mod.ts";

Deno.test("native hmac() agrees with @noble for keys shorter, equal to and longer than a block", () => {
  const msg = nobleCrypto.randomBytes(100);
  for (const h of ["sha256", "sha512", "blake2s", "blake2b"] as const) {
    for (const length of [0, 1, 32, 64, 65, 128, 129, 200]) {
      const key = nobleCrypto.randomBytes(length);
      assert.deepEqual(
        nativeCrypto.hmac(h, key, msg),
        nobleCrypto.hmac(h, key, msg),
        `${h} with a ${length}-byte key`,
      );
    }
  }
});

Deno.test("native x25519 serves no stale cached key once a secret array changes", () => {
  const c = nativeCrypto;
  const ours = c.x25519.generateKeyPair();
  const theirs = c.x25519.generateKeyPair();
  const before = c.x25519.sharedSecret(ours.secretKey, theirs.publicKey);
  const replacement = c.randomBytes(32);
  ours.secretKey.set(replacement);
  const after = c.x25519.sharedSecret(ours.secretKey, theirs.publicKey);
  assert.notDeepEqual(after, before);
  assert.deepEqual(
    after,
    nobleCrypto.x25519.sharedSecret(replacement, theirs.publicKey),
  );
  assert.deepEqual(
    c.x25519.publicKey(ours.secretKey),
    nobleCrypto.x25519.publicKey(replacement),
  );
});

Deno.test("native x25519 serves no stale cached key once a public array changes", () => {
  const c = nativeCrypto;
  const ours = c.x25519.generateKeyPair();
  const peer = c.x25519.generateKeyPair().publicKey;
  c.x25519.sharedSecret(ours.secretKey, peer);
  const other = c.x25519.generateKeyPair();
  peer.set(other.publicKey);
  assert.deepEqual(
    c.x25519.sharedSecret(ours.secretKey, peer),
    c.x25519.sharedSecret(other.secretKey, ours.publicKey),
  );
});

Deno.test("native ed25519 signs with the current bytes of a reused secret array", () => {
  const c = nativeCrypto;
  const pair = c.ed25519.generateKeyPair();
  const msg = c.randomBytes(40);
  assert.equal(
    c.ed25519.verify(pair.publicKey, msg, c.ed25519.sign(pair.secretKey, msg)),
    true,
  );
  const seed = c.randomBytes(32);
  pair.secretKey.set(seed);
  const signature = c.ed25519.sign(pair.secretKey, msg);
  assert.deepEqual(signature, nobleCrypto.ed25519.sign(seed, msg));
  assert.equal(c.ed25519.verify(pair.publicKey, msg, signature), false);
  const publicKey = nobleCrypto.ed25519.publicKey(seed);
  assert.equal(c.ed25519.verify(publicKey, msg, signature), true);
});

Deno.test("native key pairs are usable at once and agree with @noble", () => {
  const c = nativeCrypto;
  for (let i = 0; i < 8; i++) {
    const x = c.x25519.generateKeyPair();
    assert.deepEqual(nobleCrypto.x25519.publicKey(x.secretKey), x.publicKey);
    const e = c.ed25519.generateKeyPair();
    assert.deepEqual(nobleCrypto.ed25519.publicKey(e.secretKey), e.publicKey);
    const msg = c.randomBytes(i);
    assert.deepEqual(
      c.ed25519.sign(e.secretKey, msg),
      nobleCrypto.ed25519.sign(e.secretKey, msg),
    );
  }
});
