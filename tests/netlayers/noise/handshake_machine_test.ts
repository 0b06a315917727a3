import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/mod.ts";
import {
  CookieInitiator,
  CookieResponder,
} from "../../../netlayers/noise/cookie.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  handshakeMachine,
  type HandshakeMachineInput,
} from "../../../netlayers/noise/handshake_machine.ts";
import { MachineDriver } from "../../../protocol/machine_driver.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { makeIdentity } from "./_fixtures.ts";

function driverFor(
  role: HandshakeMachineInput["role"],
  clock: ManualClock,
  extra: Partial<HandshakeMachineInput> = {},
) {
  const sent: Uint8Array[] = [];
  // As the netlayer runs it (netlayers/_noise_tcp_attempt.ts).
  const actor = new MachineDriver(handshakeMachine, {
    crypto: nativeCrypto,
    role,
    send: (b) => sent.push(b),
    timeoutMs: 1000,
    ...extra,
  }, { clock });
  return { actor, sent };
}

/** An XX dialer (no key for the responder) and its responder. */
function xxPair(clock: ManualClock) {
  const d = driverFor(
    { initiator: true, options: { identity: makeIdentity() } },
    clock,
  );
  const r = driverFor({
    initiator: false,
    options: { identity: makeIdentity() },
  }, clock);
  return { d, r };
}

const state = (a: { getSnapshot(): { value: unknown } }) =>
  a.getSnapshot().value;

Deno.test("IK: idle -> initiating -> established on both sides, then closed", () => {
  const clock = new ManualClock(0);
  const alice = makeIdentity();
  const bob = makeIdentity();
  const d = driverFor({
    initiator: true,
    options: { identity: alice, remoteIdentity: bob.ed25519.publicKey },
  }, clock);
  const r = driverFor({ initiator: false, options: { identity: bob } }, clock);
  assert.equal(state(d.actor), "idle");
  d.actor.send({ type: "DIAL" });
  assert.equal(state(d.actor), "initiating");
  r.actor.send({ type: "INITIATION", message: d.sent[0] });
  assert.equal(state(r.actor), "established");
  d.actor.send({ type: "MESSAGE", message: r.sent[0] });
  assert.equal(state(d.actor), "established");
  const a = d.actor.getSnapshot().context.established!;
  const b = r.actor.getSnapshot().context.established!;
  assert.deepEqual(
    b.transport.open(a.transport.seal(Uint8Array.of(42))),
    Uint8Array.of(42),
  );
  d.actor.send({ type: "CLOSE" });
  r.actor.send({ type: "CLOSE" });
  assert.equal(state(d.actor), "closed");
  assert.equal(a.transport.closed, true);
  assert.equal(b.transport.closed, true);
  assert.equal(clock.pending, 0);
});

Deno.test("XX: the responder passes through awaitingFinal to established", () => {
  const clock = new ManualClock(0);
  const { d, r } = xxPair(clock);
  d.actor.send({ type: "DIAL" });
  r.actor.send({ type: "INITIATION", message: d.sent[0] });
  assert.equal(state(r.actor), "awaitingFinal");
  d.actor.send({ type: "MESSAGE", message: r.sent[0] });
  assert.equal(state(d.actor), "established");
  r.actor.send({ type: "MESSAGE", message: d.sent[1] });
  assert.equal(state(r.actor), "established");
  d.actor.stop();
  r.actor.stop();
  d.actor.getSnapshot().context.established!.transport.close();
  r.actor.getSnapshot().context.established!.transport.close();
});

Deno.test("initiating times out into failed with a 'timeout' error", () => {
  const clock = new ManualClock(0);
  const d = driverFor({
    initiator: true,
    options: {
      identity: makeIdentity(),
      remoteIdentity: makeIdentity().ed25519.publicKey,
    },
  }, clock);
  d.actor.send({ type: "DIAL" });
  clock.advance(999);
  assert.equal(state(d.actor), "initiating");
  clock.advance(1);
  assert.equal(state(d.actor), "failed");
  const error = d.actor.getSnapshot().context.error;
  assert.ok(error instanceof NoiseError && error.code === "timeout");
});

Deno.test("awaitingFinal times out into failed", () => {
  const clock = new ManualClock(0);
  const { d, r } = xxPair(clock);
  d.actor.send({ type: "DIAL" });
  r.actor.send({ type: "INITIATION", message: d.sent[0] });
  clock.advance(1000);
  assert.equal(state(r.actor), "failed");
  assert.equal(state(d.actor), "failed");
});

Deno.test("a bad message leads to failed, never a throw", () => {
  const clock = new ManualClock(0);
  const r = driverFor({
    initiator: false,
    options: { identity: makeIdentity() },
  }, clock);
  r.actor.send({ type: "INITIATION", message: Uint8Array.of(1, 2, 3) });
  assert.equal(state(r.actor), "failed");
  const d = driverFor(
    { initiator: true, options: { identity: makeIdentity() } },
    clock,
  );
  d.actor.send({ type: "DIAL" });
  d.actor.send({ type: "MESSAGE", message: new Uint8Array(100) });
  assert.equal(state(d.actor), "failed");
  assert.ok(d.actor.getSnapshot().context.error instanceof NoiseError);
});

Deno.test("a responder ignores DIAL and CLOSE from idle ends in closed", () => {
  const clock = new ManualClock(0);
  const r = driverFor({
    initiator: false,
    options: { identity: makeIdentity() },
  }, clock);
  r.actor.send({ type: "DIAL" });
  assert.equal(state(r.actor), "idle");
  r.actor.send({ type: "CLOSE" });
  assert.equal(state(r.actor), "closed");
});

Deno.test("a cookie reply while initiating makes the initiator resend with mac2", () => {
  const clock = new ManualClock(0);
  const bob = makeIdentity();
  const gate = new CookieResponder(nativeCrypto, {
    staticPublicKey: bob.x25519.publicKey,
    clock,
  });
  gate.forceUnderLoad = true;
  const cookie = new CookieInitiator(nativeCrypto, {
    remoteStaticPublicKey: bob.x25519.publicKey,
    clock,
  });
  const d = driverFor(
    {
      initiator: true,
      options: {
        identity: makeIdentity(),
        remoteIdentity: bob.ed25519.publicKey,
      },
    },
    clock,
    { cookie },
  );
  d.actor.send({ type: "DIAL" });
  const first = gate.check(d.sent[0], "192.0.2.1:9");
  assert.equal(first.verdict, "cookie");
  d.actor.send({
    type: "COOKIE",
    reply: first.verdict === "cookie" ? first.reply : new Uint8Array(0),
  });
  assert.equal(state(d.actor), "initiating");
  assert.equal(d.sent.length, 2);
  const second = gate.check(d.sent[1], "192.0.2.1:9");
  assert.equal(second.verdict, "accept");
  const r = driverFor({ initiator: false, options: { identity: bob } }, clock);
  r.actor.send({
    type: "INITIATION",
    message: second.verdict === "accept" ? second.message : new Uint8Array(0),
  });
  d.actor.send({ type: "MESSAGE", message: r.sent[0] });
  assert.equal(state(d.actor), "established");
  d.actor.send({ type: "CLOSE" });
  r.actor.send({ type: "CLOSE" });
});

Deno.test("failed hands its error to onFailed exactly once, a timeout included", () => {
  const clock = new ManualClock(0);
  const reported: Error[] = [];
  const r = driverFor(
    { initiator: false, options: { identity: makeIdentity() } },
    clock,
    { onFailed: (error) => reported.push(error) },
  );
  r.actor.send({ type: "INITIATION", message: Uint8Array.of(1, 2, 3) });
  r.actor.send({ type: "CLOSE" });
  assert.deepEqual(reported, [r.actor.getSnapshot().context.error]);
  const d = driverFor(
    { initiator: true, options: { identity: makeIdentity() } },
    clock,
    { onFailed: (error) => reported.push(error) },
  );
  d.actor.send({ type: "DIAL" });
  clock.advance(1000);
  assert.equal(reported.length, 2);
  assert.ok(
    reported[1] instanceof NoiseError && reported[1].code === "timeout",
  );
  assert.equal(clock.pending, 0);
});

Deno.test("closed does not call onFailed", () => {
  const clock = new ManualClock(0);
  const reported: Error[] = [];
  const d = driverFor(
    { initiator: true, options: { identity: makeIdentity() } },
    clock,
    { onFailed: (error) => reported.push(error) },
  );
  d.actor.send({ type: "DIAL" });
  d.actor.send({ type: "CLOSE" });
  assert.equal(state(d.actor), "closed");
  assert.deepEqual(reported, []);
});
