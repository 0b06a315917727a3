import assert from "node:assert/strict";
import { createActor } from "xstate";
import { nativeCrypto } from "../../../crypto/mod.ts";
import { HandshakeDriver } from "../../../netlayers/noise/handshake_driver.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  handshakeMachine,
  type HandshakeMachineInput,
  xstateClock,
} from "../../../netlayers/noise/handshake_machine.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { makeIdentity } from "./_fixtures.ts";

function driverFor(
  role: HandshakeMachineInput["role"],
  clock: ManualClock,
  extra: Partial<HandshakeMachineInput> = {},
) {
  const sent: Uint8Array[] = [];
  const failures: Error[] = [];
  const driver = new HandshakeDriver({
    crypto: nativeCrypto,
    role,
    send: (b) => sent.push(b),
    timeoutMs: 1000,
    onFailed: (error) => failures.push(error),
    ...extra,
  }, clock);
  return { driver, sent, failures };
}

function ikPair(clock: ManualClock) {
  const bob = makeIdentity();
  const d = driverFor({
    initiator: true,
    options: {
      identity: makeIdentity(),
      remoteIdentity: bob.ed25519.publicKey,
    },
  }, clock);
  const r = driverFor({ initiator: false, options: { identity: bob } }, clock);
  return { d, r };
}

const state = (d: HandshakeDriver) => d.getSnapshot().value;

Deno.test("HandshakeDriver starts where an actor of the machine starts", () => {
  const clock = new ManualClock(0);
  const input: HandshakeMachineInput = {
    crypto: nativeCrypto,
    role: { initiator: false, options: { identity: makeIdentity() } },
    send: () => {},
  };
  const actor = createActor(handshakeMachine, {
    input,
    clock: xstateClock(clock),
  });
  actor.start();
  const driver = new HandshakeDriver(input, clock);
  assert.equal(state(driver), actor.getSnapshot().value);
  assert.equal(driver.getSnapshot().status, actor.getSnapshot().status);
  assert.deepEqual(driver.getSnapshot().context, actor.getSnapshot().context);
  actor.stop();
  driver.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("HandshakeDriver: IK reaches established on both sides and leaves no timer", () => {
  const clock = new ManualClock(0);
  const { d, r } = ikPair(clock);
  d.driver.send({ type: "DIAL" });
  assert.equal(state(d.driver), "initiating");
  assert.equal(clock.pending, 1); // the handshakeTimeout delay
  r.driver.send({ type: "INITIATION", message: d.sent[0] });
  assert.equal(state(r.driver), "established");
  d.driver.send({ type: "MESSAGE", message: r.sent[0] });
  assert.equal(state(d.driver), "established");
  assert.equal(clock.pending, 0);
  const a = d.driver.getSnapshot().context.established!;
  const b = r.driver.getSnapshot().context.established!;
  assert.deepEqual(
    b.transport.open(a.transport.seal(Uint8Array.of(7))),
    Uint8Array.of(7),
  );
  d.driver.send({ type: "CLOSE" });
  r.driver.send({ type: "CLOSE" });
  assert.equal(state(d.driver), "closed");
  assert.equal(a.transport.closed, true);
  assert.equal(b.transport.closed, true);
});

Deno.test("HandshakeDriver: the named timeout fires after timeoutMs into failed", () => {
  const clock = new ManualClock(0);
  const { d } = ikPair(clock);
  d.driver.send({ type: "DIAL" });
  clock.advance(999);
  assert.equal(state(d.driver), "initiating");
  clock.advance(1);
  assert.equal(state(d.driver), "failed");
  assert.equal(d.failures.length, 1);
  assert.ok(d.failures[0] instanceof NoiseError);
  assert.equal((d.failures[0] as NoiseError).code, "timeout");
  assert.equal(clock.pending, 0);
});

Deno.test("HandshakeDriver: XX awaitingFinal times out too", () => {
  const clock = new ManualClock(0);
  const d = driverFor(
    { initiator: true, options: { identity: makeIdentity() } },
    clock,
  );
  const r = driverFor(
    { initiator: false, options: { identity: makeIdentity() } },
    clock,
    { timeoutMs: 500 },
  );
  d.driver.send({ type: "DIAL" });
  r.driver.send({ type: "INITIATION", message: d.sent[0] });
  assert.equal(state(r.driver), "awaitingFinal");
  d.driver.stop();
  clock.advance(500);
  assert.equal(state(r.driver), "failed");
  assert.equal(r.failures.length, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("HandshakeDriver: stop() cancels the timer and later events are ignored", () => {
  const clock = new ManualClock(0);
  const { d } = ikPair(clock);
  d.driver.send({ type: "DIAL" });
  assert.equal(clock.pending, 1);
  d.driver.stop();
  assert.equal(clock.pending, 0);
  d.driver.send({ type: "CLOSE" });
  assert.equal(state(d.driver), "initiating");
  assert.equal(d.failures.length, 0);
});

Deno.test("HandshakeDriver: a bad message fails once and a final state ignores the rest", () => {
  const clock = new ManualClock(0);
  const { r } = ikPair(clock);
  r.driver.send({ type: "INITIATION", message: Uint8Array.of(1, 2, 3) });
  assert.equal(state(r.driver), "failed");
  r.driver.send({ type: "CLOSE" });
  assert.equal(state(r.driver), "failed");
  assert.equal(r.failures.length, 1);
  assert.equal(clock.pending, 0);
});
