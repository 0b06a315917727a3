import assert from "node:assert/strict";
import { nativeCrypto as c } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { noiseIdentity } from "../../../netlayers/noise/peer_handshake.ts";
import {
  COOKIE_DATAGRAM_LENGTH,
  cookieDatagram,
  deriveDataKeys,
  INITIATION_LENGTH,
  InitiationGate,
  isInitiation,
} from "../../../netlayers/udp/handshake.ts";
import {
  InitiatorHandshake,
  MAX_FAILED_CONFIRMATIONS,
  ResponderHandshake,
} from "../../../netlayers/udp/handshake_roles.ts";
import { peekSession, peekType } from "../../../netlayers/udp/wire.ts";

const clock = new ManualClock();
const id = () => noiseIdentity(c, c.ed25519.generateKeyPair());

function run(known: boolean) {
  const alice = id();
  const bob = id();
  const initiator = new InitiatorHandshake(c, {
    clock,
    identity: alice,
    remoteKey: known ? bob.ed25519.publicKey : undefined,
    localCode: 0x01020304,
  });
  const initiation = initiator.initiation();
  const responder = new ResponderHandshake(c, {
    identity: bob,
    initiation,
  });
  const response = responder.frame(0x0a0b0c0d);
  const confirmed = initiator.respond(response)!;
  return { alice, bob, initiation, responder, response, confirmed };
}

for (const known of [true, false]) {
  const pattern = known ? "IK" : "XX";
  Deno.test(`handshake datagrams (${pattern}) carry codes where routing reads them and agree on keys`, () => {
    const { alice, bob, initiation, responder, response, confirmed } = run(
      known,
    );
    assert.equal(initiation.length, INITIATION_LENGTH);
    assert.ok(isInitiation(initiation));
    assert.equal(peekType(initiation), 1);
    assert.equal(peekSession(initiation), 0x01020304, "sender code");
    assert.ok(response.length <= initiation.length, "no amplification");
    assert.equal(peekType(response), 2);
    assert.equal(peekSession(response), 0x01020304, "receiver code");
    assert.equal(confirmed.remoteCode, 0x0a0b0c0d);
    assert.deepEqual(confirmed.remoteKey, bob.ed25519.publicKey);
    assert.equal(peekSession(confirmed.confirmation), 0x0a0b0c0d);
    assert.ok(responder.confirmable(confirmed.confirmation));
    const done = responder.confirm(confirmed.confirmation, 0x0a0b0c0d)!;
    assert.deepEqual(done.remoteKey, alice.ed25519.publicKey);
    assert.deepEqual(done.keys.receive, confirmed.keys.send);
    assert.deepEqual(done.keys.send, confirmed.keys.receive);
    assert.notDeepEqual(done.keys.send, done.keys.receive);
  });

  Deno.test(`ResponderHandshake (${pattern}) refuses a confirmation naming another code`, () => {
    const { responder, confirmed } = run(known);
    assert.equal(
      responder.confirm(confirmed.confirmation, 0x0a0b0c0e),
      undefined,
    );
  });
}

Deno.test("InitiatorHandshake ignores a tampered response and keeps its initiation", () => {
  const { response } = run(true);
  const bob = id();
  const initiator = new InitiatorHandshake(c, {
    clock,
    identity: id(),
    remoteKey: bob.ed25519.publicKey,
    localCode: 5,
  });
  const first = initiator.initiation();
  assert.equal(initiator.respond(response), undefined);
  assert.deepEqual(initiator.initiation(), first, "the same ephemeral");
  assert.equal(initiator.respond(response.subarray(1)), undefined);
});

for (const known of [true, false]) {
  const pattern = known ? "IK" : "XX";
  // Found by hostile_test.ts (UDP_FUZZ_SEED=8): a damaged copy of the
  // response or confirmation that overtook the real one spoiled the Noise
  // state, so the real datagram failed too and the handshake timed out.
  Deno.test(`handshake roles (${pattern}) still complete when a forged response and confirmation come first`, () => {
    const bob = id();
    const initiator = new InitiatorHandshake(c, {
      clock,
      identity: id(),
      remoteKey: known ? bob.ed25519.publicKey : undefined,
      localCode: 9,
    });
    const initiation = initiator.initiation();
    const responder = new ResponderHandshake(c, { identity: bob, initiation });
    const response = responder.frame(10);
    const forged = response.slice();
    forged[forged.length - 1] ^= 1;
    assert.equal(initiator.respond(forged), undefined);
    assert.deepEqual(initiator.initiation(), initiation, "initiation kept");
    const confirmed = initiator.respond(response)!;
    assert.ok(confirmed, "the real response completes");
    const bad = confirmed.confirmation.slice();
    bad[bad.length - 1] ^= 1;
    assert.equal(responder.confirm(bad, 10), undefined);
    assert.equal(responder.spent, false, "the half-open waits on");
    const done = responder.confirm(confirmed.confirmation, 10)!;
    assert.deepEqual(done.keys.receive, confirmed.keys.send);
    assert.equal(responder.spent, true);
  });
}

Deno.test("ResponderHandshake is spent after MAX_FAILED_CONFIRMATIONS forged confirmations", () => {
  const { responder, confirmed } = run(true);
  const bad = confirmed.confirmation.slice();
  bad[20] ^= 1;
  for (let i = 0; i < MAX_FAILED_CONFIRMATIONS; i++) {
    assert.equal(responder.spent, false);
    assert.equal(responder.confirm(bad, 0x0a0b0c0d), undefined);
  }
  assert.equal(responder.spent, true);
  assert.equal(
    responder.confirm(confirmed.confirmation, 0x0a0b0c0d),
    undefined,
  );
});

Deno.test("InitiationGate checks mac1 over the header and sends a cookie under load", () => {
  const bob = id();
  const gate = new InitiationGate(c, { clock, identity: bob, loadRate: 1000 });
  const initiator = new InitiatorHandshake(c, {
    clock,
    identity: id(),
    remoteKey: bob.ed25519.publicKey,
    localCode: 77,
  });
  const initiation = initiator.initiation();
  assert.equal(gate.check(initiation, "1.2.3.4:5", false).verdict, "accept");
  const moved = initiation.slice();
  moved[7] ^= 1;
  assert.equal(gate.check(moved, "1.2.3.4:5", false).verdict, "drop");
  const verdict = gate.check(initiation, "1.2.3.4:5", true);
  assert.equal(verdict.verdict, "cookie");
  const reply = cookieDatagram(77, (verdict as { reply: Uint8Array }).reply);
  assert.equal(reply.length, COOKIE_DATAGRAM_LENGTH);
  assert.equal(peekType(reply), 3);
  assert.equal(peekSession(reply), 77);
  assert.ok(initiator.acceptCookie(reply));
  const stamped = initiator.initiation();
  assert.equal(gate.check(stamped, "1.2.3.4:5", true).verdict, "accept");
  assert.equal(gate.check(stamped, "1.2.3.4:6", true).verdict, "cookie");
});

Deno.test("deriveDataKeys binds the keys to the handshake hash", () => {
  const secret = c.randomBytes(32);
  const one = deriveDataKeys(c, secret, {
    handshakeHash: new Uint8Array(32),
    initiator: true,
  });
  const two = deriveDataKeys(c, secret, {
    handshakeHash: new Uint8Array(32).fill(1),
    initiator: true,
  });
  assert.notDeepEqual(one.send, two.send);
  assert.equal(one.send.length, 32);
});
