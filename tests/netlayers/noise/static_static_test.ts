import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/mod.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  identityStatic,
  type NoiseIdentity,
  PeerInitiator,
  PeerResponder,
} from "../../../netlayers/noise/peer_handshake.ts";
import { ed25519PublicToX25519 } from "../../../protocol/ed25519_to_x25519.ts";
import { StaticStaticCache } from "../../../netlayers/noise/static_static.ts";
import { countingCrypto, makeIdentity } from "./_fixtures.ts";

const key = (b: number) => new Uint8Array(32).fill(b);

Deno.test("StaticStaticCache computes a peer's secret once and serves it after", () => {
  const cache = new StaticStaticCache();
  let computed = 0;
  const compute = () => (computed++, key(7));
  const first = cache.get(key(1), compute);
  const again = cache.get(key(1), compute);
  assert.equal(again, first);
  assert.deepEqual(first, { remoteStatic: key(1), secret: key(7) });
  assert.equal(computed, 1);
  assert.equal(cache.size, 1);
});

Deno.test("StaticStaticCache evicts the least recently used secret and zeroes it", () => {
  const cache = new StaticStaticCache(2);
  const a = cache.get(key(1), () => key(11)).secret;
  const b = cache.get(key(2), () => key(12)).secret;
  cache.get(key(1), () => key(99)); // a is now the most recent
  cache.get(key(3), () => key(13));
  assert.equal(cache.size, 2);
  assert.deepEqual(b, new Uint8Array(32));
  assert.deepEqual(a, key(11));
  let recomputed = false;
  cache.get(key(2), () => (recomputed = true, key(12)));
  assert.equal(recomputed, true);
});

Deno.test("StaticStaticCache keeps nothing when the computation throws", () => {
  const cache = new StaticStaticCache();
  assert.throws(
    () =>
      cache.get(key(1), () => {
        throw new RangeError("low order");
      }),
    RangeError,
  );
  assert.equal(cache.size, 0);
});

Deno.test("StaticStaticCache clear() zeroes every secret", () => {
  const cache = new StaticStaticCache();
  const a = cache.get(key(1), () => key(11)).secret;
  cache.clear();
  assert.equal(cache.size, 0);
  assert.deepEqual(a, new Uint8Array(32));
  assert.throws(() => new StaticStaticCache(0), RangeError);
});

Deno.test("a repeat IK handshake between two identities skips the ss Diffie-Hellman on both sides", () => {
  const { crypto, dhCalls } = countingCrypto(nativeCrypto);
  const alice = makeIdentity();
  const bob = makeIdentity();
  const handshake = () => {
    const dialer = new PeerInitiator(crypto, {
      identity: alice,
      remoteIdentity: bob.ed25519.publicKey,
    });
    const responder = new PeerResponder(crypto, { identity: bob });
    const r = responder.receive(dialer.start());
    const d = dialer.receive(r.reply);
    const msg = Uint8Array.of(1, 2, 3);
    assert.deepEqual(
      r.established!.transport.open(d.established.transport.seal(msg)),
      msg,
    );
    d.established.transport.close();
    r.established!.transport.close();
  };
  handshake();
  assert.equal(dhCalls(), 8);
  handshake();
  assert.equal(dhCalls(), 8 + 6);
  assert.equal(alice.staticStatic?.size, 1);
  assert.equal(bob.staticStatic?.size, 1);
});

Deno.test("identityStatic() is ed25519PublicToX25519, one shared array per peer", () => {
  const bob = makeIdentity();
  const first = identityStatic(bob.ed25519.publicKey);
  assert.deepEqual(first, ed25519PublicToX25519(bob.ed25519.publicKey));
  assert.equal(identityStatic(bob.ed25519.publicKey.slice()), first);
  assert.throws(() => identityStatic(new Uint8Array(31)), TypeError);
});

Deno.test("a peer already seen under an identity cannot reuse that identity with another static key", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const mallory = makeIdentity();
  const dial = (as: NoiseIdentity) => {
    const dialer = new PeerInitiator(nativeCrypto, { identity: as });
    const responder = new PeerResponder(nativeCrypto, { identity: alice });
    const r = responder.receive(dialer.start());
    const d = dialer.receive(r.reply);
    d.established.transport.close();
    return responder.finish(d.reply!);
  };
  const honest = dial(bob);
  assert.deepEqual(honest.remoteIdentity, bob.ed25519.publicKey);
  honest.transport.close();
  // Mallory's static key, bob's identity key as payload.
  assert.throws(
    () => dial({ ed25519: bob.ed25519, x25519: mallory.x25519 }),
    (e) => e instanceof NoiseError && e.code === "identity-mismatch",
  );
});
