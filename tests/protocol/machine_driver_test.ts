import assert from "node:assert/strict";
import { createActor } from "xstate";
import { MachineDriver } from "../../protocol/machine_driver.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { sessionMachine } from "../../protocol/captp/session_machine.ts";

const input = { handshakeTimeoutMs: 1000, abortGraceMs: 200 };
type Driver = MachineDriver<typeof sessionMachine>;

/** The session machine with actions that log, run by a driver. */
function driven(
  clock: ManualClock,
  actions: Record<string, (driver: Driver) => void> = {},
) {
  const log: string[] = [];
  const seen: string[] = [];
  const names = [
    "sendHello",
    "opened",
    "sendAbort",
    "sever",
    "closeConnection",
    "finish",
  ];
  const machine = sessionMachine.provide({
    actions: Object.fromEntries(names.map((name) => [name, () => {
      log.push(name);
      actions[name]?.(driver);
    }])),
  });
  const driver: Driver = new MachineDriver(machine, input, {
    clock,
    observe: (snapshot) => seen.push(snapshot.value as string),
  });
  return { driver, log, seen };
}

Deno.test("MachineDriver starts where an actor starts, initial delay included", () => {
  const clock = new ManualClock(0);
  const actor = createActor(sessionMachine, {
    input,
    clock: {
      setTimeout: (fn, ms) => clock.schedule(clock.now() + ms, fn),
      clearTimeout: (cancel: () => void) => cancel(),
    },
  });
  actor.start();
  const { driver, seen } = driven(clock);
  assert.equal(driver.getSnapshot().value, actor.getSnapshot().value);
  assert.deepEqual(driver.getSnapshot().context, actor.getSnapshot().context);
  assert.deepEqual(seen, ["connecting"]);
  assert.equal(clock.pending, 2); // connecting's handshakeTimeout, each
  actor.stop();
  driver.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("MachineDriver: a named delay fires on the clock and leaving its state cancels it", () => {
  const clock = new ManualClock(0);
  const { driver, log, seen } = driven(clock);
  driver.send({ type: "hello.sent" });
  assert.equal(clock.pending, 1); // awaitingPeer's own handshakeTimeout
  clock.advance(999);
  assert.equal(driver.getSnapshot().value, "awaitingPeer");
  clock.advance(1);
  assert.equal(driver.getSnapshot().value, "aborting");
  assert.equal(driver.getSnapshot().context.reason, "handshake timed out");
  assert.equal(clock.pending, 1); // aborting's abortGrace
  clock.advance(200);
  assert.equal(driver.getSnapshot().status, "done");
  assert.deepEqual(seen, [
    "connecting",
    "awaitingPeer",
    "aborting",
    "closed",
  ]);
  assert.ok(log.includes("finish"));
  assert.equal(clock.pending, 0);
});

Deno.test("MachineDriver: an event sent from an action runs after the transition, in order", () => {
  const clock = new ManualClock(0);
  const { driver, log, seen } = driven(clock, {
    sendHello: (d) => {
      d.send({ type: "abort.local", reason: "first" });
      d.send({ type: "abort.local", reason: "second" });
      assert.equal(d.getSnapshot().value, "connecting"); // not yet
    },
  });
  driver.send({ type: "hello.accepted" });
  assert.deepEqual(seen, ["connecting", "open", "aborting", "aborting"]);
  assert.equal(driver.getSnapshot().context.reason, "first");
  assert.deepEqual(log, [
    "sendHello",
    "opened",
    "sendAbort",
    "sever",
    "closeConnection",
  ]);
  driver.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("MachineDriver: an action that throws leaves the snapshot and drops what it queued", () => {
  const clock = new ManualClock(0);
  let fail = true;
  const { driver, log } = driven(clock, {
    opened: (d) => {
      d.send({ type: "abort.local", reason: "queued by a failed step" });
      if (fail) throw new Error("opened failed");
    },
  });
  driver.send({ type: "hello.sent" });
  assert.throws(
    () => driver.send({ type: "hello.accepted" }),
    /opened failed/,
  );
  assert.equal(driver.getSnapshot().value, "awaitingPeer");
  assert.equal(driver.getSnapshot().context.reason, undefined);
  assert.equal(clock.pending, 1); // awaitingPeer's timer, still armed
  fail = false;
  driver.send({ type: "connection.closed", reason: "gone" });
  assert.equal(driver.getSnapshot().value, "closed");
  assert.deepEqual(log.slice(-2), ["sever", "finish"]);
  assert.equal(clock.pending, 0);
});

Deno.test("MachineDriver: stop() cancels every timer and later events are ignored", () => {
  const clock = new ManualClock(0);
  const { driver, seen } = driven(clock);
  driver.stop();
  assert.equal(clock.pending, 0);
  driver.send({ type: "hello.sent" });
  assert.equal(driver.getSnapshot().value, "connecting");
  assert.deepEqual(seen, ["connecting"]);
});

Deno.test("MachineDriver: a final state ignores the rest", () => {
  const clock = new ManualClock(0);
  const { driver, log } = driven(clock);
  driver.send({ type: "connection.closed", reason: "gone" });
  driver.send({ type: "abort.local", reason: "late" });
  assert.equal(driver.getSnapshot().value, "closed");
  assert.equal(driver.getSnapshot().context.reason, "gone");
  assert.deepEqual(log, ["sever", "finish"]);
  assert.equal(clock.pending, 0);
});
