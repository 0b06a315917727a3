import assert from "node:assert/strict";
import { nativeCrypto, nobleCrypto } from "../../../crypto/mod.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  KIND_IK,
  KIND_XX,
  PeerInitiator,
  PeerResponder,
} from "../../../netlayers/noise/peer_handshake.ts";
import { makeIdentity } from "./_fixtures.ts";

const prologue = new TextEncoder().encode("ocapn-noise-test");
const code = (c: string) => (e: unknown) =>
  e instanceof NoiseError && e.code === c;

for (const c of [nativeCrypto, nobleCrypto]) {
  Deno.test(`[${c.name}] IK completes in one round trip and both sides learn each other`, () => {
    const alice = makeIdentity(c);
    const bob = makeIdentity(c);
    const dialer = new PeerInitiator(c, {
      identity: alice,
      remoteIdentity: bob.ed25519.publicKey,
      prologue,
    });
    const responder = new PeerResponder(c, { identity: bob, prologue });
    const initiation = dialer.start();
    assert.equal(initiation[0], KIND_IK);
    const r = responder.receive(initiation);
    assert.ok(r.established);
    const d = dialer.receive(r.reply);
    assert.equal(d.reply, undefined);
    assert.deepEqual(r.established.remoteIdentity, alice.ed25519.publicKey);
    assert.deepEqual(d.established.remoteIdentity, bob.ed25519.publicKey);
    const msg = new TextEncoder().encode("hello bob");
    assert.deepEqual(
      r.established.transport.open(d.established.transport.seal(msg)),
      msg,
    );
    assert.deepEqual(
      d.established.transport.handshakeHash,
      r.established.transport.handshakeHash,
    );
    d.established.transport.close();
    r.established.transport.close();
  });

  Deno.test(`[${c.name}] XX completes in three messages without knowing the responder`, () => {
    const alice = makeIdentity(c);
    const bob = makeIdentity(c);
    const dialer = new PeerInitiator(c, { identity: alice, prologue });
    const responder = new PeerResponder(c, { identity: bob, prologue });
    const initiation = dialer.start();
    assert.equal(initiation[0], KIND_XX);
    const r = responder.receive(initiation);
    assert.equal(r.established, undefined);
    const d = dialer.receive(r.reply);
    assert.ok(d.reply);
    const established = responder.finish(d.reply);
    assert.deepEqual(established.remoteIdentity, alice.ed25519.publicKey);
    assert.deepEqual(d.established.remoteIdentity, bob.ed25519.publicKey);
    const msg = Uint8Array.of(1, 2, 3);
    assert.deepEqual(
      d.established.transport.open(established.transport.seal(msg)),
      msg,
    );
    d.established.transport.close();
    established.transport.close();
  });
}

Deno.test("IK to the wrong responder key fails: an impostor cannot read the initiation", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const mallory = makeIdentity();
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: bob.ed25519.publicKey,
    prologue,
  });
  const impostor = new PeerResponder(nativeCrypto, {
    identity: mallory,
    prologue,
  });
  assert.throws(() => impostor.receive(dialer.start()), code("decrypt-failed"));
});

Deno.test("IK: a reply from an impostor is rejected by the dialer", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const mallory = makeIdentity();
  // Mallory answers an initiation meant for bob with one of his own making.
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: bob.ed25519.publicKey,
    prologue,
  });
  dialer.start();
  const fake = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: mallory.ed25519.publicKey,
    prologue,
  });
  const r = new PeerResponder(nativeCrypto, { identity: mallory, prologue })
    .receive(fake.start());
  assert.throws(() => dialer.receive(r.reply), code("decrypt-failed"));
});

Deno.test("XX: a responder whose static key is not its claimed identity is rejected", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const mallory = makeIdentity();
  // Mallory's static key, bob's identity key as payload.
  const liar = new PeerResponder(nativeCrypto, {
    identity: { ed25519: bob.ed25519, x25519: mallory.x25519 },
    prologue,
  });
  const dialer = new PeerInitiator(nativeCrypto, { identity: alice, prologue });
  const r = liar.receive(dialer.start());
  assert.throws(() => dialer.receive(r.reply), code("identity-mismatch"));
});

Deno.test("a tampered initiation or reply is rejected", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  for (const at of [1, 40, -1]) {
    const dialer = new PeerInitiator(nativeCrypto, {
      identity: alice,
      remoteIdentity: bob.ed25519.publicKey,
      prologue,
    });
    const initiation = dialer.start();
    initiation[at < 0 ? initiation.length + at : at] ^= 1;
    const responder = new PeerResponder(nativeCrypto, {
      identity: bob,
      prologue,
    });
    assert.throws(() => responder.receive(initiation), NoiseError);
  }
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: bob.ed25519.publicKey,
    prologue,
  });
  const r = new PeerResponder(nativeCrypto, { identity: bob, prologue })
    .receive(dialer.start());
  r.reply[r.reply.length - 1] ^= 1;
  assert.throws(() => dialer.receive(r.reply), code("decrypt-failed"));
});

Deno.test("a replayed handshake message is rejected by the session that saw it", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const dialer = new PeerInitiator(nativeCrypto, { identity: alice, prologue });
  const responder = new PeerResponder(nativeCrypto, {
    identity: bob,
    prologue,
  });
  const initiation = dialer.start();
  const r = responder.receive(initiation);
  assert.throws(
    () => responder.receive(initiation),
    code("unexpected-message"),
  );
  const d = dialer.receive(r.reply);
  assert.throws(() => dialer.receive(r.reply), code("unexpected-message"));
  const established = responder.finish(d.reply!);
  assert.throws(() => responder.finish(d.reply!), code("unexpected-message"));
  established.transport.close();
  d.established.transport.close();
});

Deno.test("a different prologue makes the handshake fail", () => {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: bob.ed25519.publicKey,
    prologue,
  });
  const responder = new PeerResponder(nativeCrypto, {
    identity: bob,
    prologue: new TextEncoder().encode("other"),
  });
  assert.throws(
    () => responder.receive(dialer.start()),
    code("decrypt-failed"),
  );
});

Deno.test("an initiation of unknown kind or truncated is rejected", () => {
  const bob = makeIdentity();
  const responder = new PeerResponder(nativeCrypto, { identity: bob });
  assert.throws(
    () => responder.receive(Uint8Array.of(9, 1, 2)),
    code("unexpected-message"),
  );
  const r2 = new PeerResponder(nativeCrypto, { identity: bob });
  assert.throws(
    () => r2.receive(Uint8Array.of(KIND_XX, 1, 2)),
    code("bad-length"),
  );
});
