import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/mod.ts";
import {
  COOKIE_LIFETIME_MS,
  CookieInitiator,
  CookieResponder,
} from "../../../netlayers/noise/cookie.ts";
import {
  PeerInitiator,
  PeerResponder,
} from "../../../netlayers/noise/peer_handshake.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { countingCrypto, makeIdentity } from "./_fixtures.ts";

function setup(loadThreshold = 1000) {
  const clock = new ManualClock(0);
  const { crypto, dhCalls } = countingCrypto(nativeCrypto);
  const bob = makeIdentity();
  const responder = new CookieResponder(crypto, {
    staticPublicKey: bob.x25519.publicKey,
    clock,
    loadThreshold,
  });
  const initiator = () =>
    new CookieInitiator(nativeCrypto, {
      remoteStaticPublicKey: bob.x25519.publicKey,
      clock,
    });
  return { clock, crypto, dhCalls, bob, responder, initiator };
}

const body = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

Deno.test("check() accepts a stamped initiation and strips the macs", () => {
  const { responder, initiator } = setup();
  const v = responder.check(initiator().stamp(body), "10.0.0.1:4000");
  assert.deepEqual(v, { verdict: "accept", message: body });
});

Deno.test("check() drops a bad mac1, a message for another key, and a runt", () => {
  const { responder, initiator } = setup();
  const stamped = initiator().stamp(body);
  stamped[2] ^= 1;
  assert.equal(responder.check(stamped, "a").verdict, "drop");
  const other = new CookieInitiator(nativeCrypto, {
    remoteStaticPublicKey: makeIdentity().x25519.publicKey,
    clock: new ManualClock(0),
  });
  assert.equal(responder.check(other.stamp(body), "a").verdict, "drop");
  assert.equal(responder.check(new Uint8Array(5), "a").verdict, "drop");
});

Deno.test("under load an initiation without mac2 gets a cookie reply, then passes with it", () => {
  const { responder, initiator } = setup();
  responder.forceUnderLoad = true;
  const alice = initiator();
  const v = responder.check(alice.stamp(body), "10.0.0.1:4000");
  assert.equal(v.verdict, "cookie");
  assert.equal(
    alice.receiveReply(v.verdict === "cookie" ? v.reply : body),
    true,
  );
  assert.deepEqual(responder.check(alice.stamp(body), "10.0.0.1:4000"), {
    verdict: "accept",
    message: body,
  });
  // The cookie is bound to the address it was sent to.
  assert.equal(
    responder.check(alice.stamp(body), "10.0.0.2:4000").verdict,
    "cookie",
  );
});

Deno.test("the load threshold switches cookies on within a one-second window", () => {
  const { responder, initiator, clock } = setup(3);
  const alice = initiator();
  const verdicts = Array.from(
    { length: 5 },
    () => responder.check(alice.stamp(body), "a").verdict,
  );
  assert.deepEqual(verdicts, [
    "accept",
    "accept",
    "accept",
    "cookie",
    "cookie",
  ]);
  clock.advance(1000);
  assert.equal(responder.check(alice.stamp(body), "a").verdict, "accept");
});

Deno.test("a cookie stops working once the secret rotates after two minutes", () => {
  const { responder, initiator, clock } = setup();
  responder.forceUnderLoad = true;
  const alice = initiator();
  const v = responder.check(alice.stamp(body), "a");
  assert.ok(v.verdict === "cookie" && alice.receiveReply(v.reply));
  clock.advance(COOKIE_LIFETIME_MS - 1);
  assert.equal(responder.check(alice.stamp(body), "a").verdict, "accept");
  clock.advance(1);
  assert.equal(responder.check(alice.stamp(body), "a").verdict, "cookie");
});

Deno.test("cookies stay bound to their address however initiations from others interleave", () => {
  const { responder, initiator } = setup();
  responder.forceUnderLoad = true;
  const [alice, carol] = [initiator(), initiator()];
  for (const [who, address] of [[alice, "a"], [carol, "c"]] as const) {
    const v = responder.check(who.stamp(body), address);
    assert.ok(v.verdict === "cookie" && who.receiveReply(v.reply));
  }
  for (let i = 0; i < 3; i++) {
    assert.equal(responder.check(alice.stamp(body), "a").verdict, "accept");
    assert.equal(responder.check(carol.stamp(body), "c").verdict, "accept");
    assert.equal(responder.check(carol.stamp(body), "a").verdict, "cookie");
    assert.equal(responder.check(alice.stamp(body), "c").verdict, "cookie");
  }
});

Deno.test("receiveReply() rejects a forged, mismatched or malformed reply", () => {
  const { responder, initiator } = setup();
  responder.forceUnderLoad = true;
  const alice = initiator();
  assert.equal(alice.receiveReply(new Uint8Array(44)), false);
  const v = responder.check(alice.stamp(body), "a");
  assert.equal(v.verdict, "cookie");
  const reply = v.verdict === "cookie" ? v.reply.slice() : body;
  alice.stamp(Uint8Array.of(9)); // a newer initiation: the reply is for the old mac1
  assert.equal(alice.receiveReply(reply), false);
  assert.equal(initiator().receiveReply(new Uint8Array(3)), false);
});

Deno.test("a flood of initiations from many addresses under load costs no DH and keeps no state", () => {
  const { responder, initiator, dhCalls, crypto, bob } = setup();
  responder.forceUnderLoad = true;
  const peers = new PeerResponder(crypto, { identity: bob });
  const attacker = initiator();
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: makeIdentity(),
    remoteIdentity: bob.ed25519.publicKey,
  });
  const initiation = dialer.start();
  const before = Object.entries(responder).length;
  for (let i = 0; i < 500; i++) {
    const v = responder.check(
      attacker.stamp(initiation),
      `198.51.100.${i % 250}:${i}`,
    );
    assert.equal(v.verdict, "cookie");
  }
  assert.equal(dhCalls(), 0);
  // No per-initiator table: its only public field is the load switch.
  assert.equal(Object.entries(responder).length, before);
  // An honest initiator still gets through with its cookie, and only then costs DH.
  const honest = initiator();
  const first = responder.check(honest.stamp(initiation), "192.0.2.7:1");
  assert.ok(first.verdict === "cookie" && honest.receiveReply(first.reply));
  const second = responder.check(honest.stamp(initiation), "192.0.2.7:1");
  assert.equal(second.verdict, "accept");
  assert.equal(dhCalls(), 0);
  const r = peers.receive(second.verdict === "accept" ? second.message : body);
  assert.ok(dhCalls() > 0);
  const done = dialer.receive(r.reply).established;
  assert.deepEqual(done.remoteIdentity, bob.ed25519.publicKey);
  done.transport.close();
  r.established!.transport.close();
});
