import assert from "node:assert/strict";
import { createActor } from "xstate";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { giftMachine } from "../../../protocol/captp/handoff_machine.ts";
import { receiveMachine } from "../../../protocol/captp/handoff_receive_machine.ts";

/** An actor on a manual clock, counting every action it runs. */
function gift(ms = { depositMs: 100, withdrawMs: 100 }) {
  const clock = new ManualClock();
  const calls: Record<string, number> = {};
  const count = (name: string) => () => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const actor = createActor(
    giftMachine.provide({
      actions: {
        release: count("release"),
        retireGiftId: count("retireGiftId"),
      },
    }),
    {
      input: ms,
      clock: {
        setTimeout: (fn, t) => clock.schedule(clock.now() + t, fn),
        clearTimeout: (c: () => void) => c(),
      },
    },
  );
  actor.start();
  const settled: string[] = [];
  const waiter = (name: string) => ({
    resolve: (ref: unknown) => settled.push(`${name}:${ref}`),
    reject: (why: string) => settled.push(`${name}!${why}`),
  });
  return {
    actor,
    clock,
    calls,
    settled,
    waiter,
    state: () => actor.getSnapshot().value,
  };
}

Deno.test("gift machine: idle -> deposited -> given hands the gift once; a second deposit is refused", () => {
  const g = gift();
  assert.equal(g.state(), "idle");
  const refusals: string[] = [];
  const refuse = (why: string) => refusals.push(why);
  g.actor.send({ type: "deposit", ref: "carol", refuse });
  assert.equal(g.state(), "deposited");
  assert.deepEqual(refusals, []);
  g.actor.send({ type: "deposit", ref: "mallory", refuse });
  assert.deepEqual(refusals, ["gift-already-deposited"]);
  assert.equal(g.state(), "deposited");
  g.actor.send({ type: "withdraw", waiter: g.waiter("w1") });
  assert.equal(g.state(), "given");
  g.actor.send({ type: "withdraw", waiter: g.waiter("w2") });
  assert.deepEqual(g.settled, ["w1:carol"], "the first deposit stood");
  assert.equal(g.calls.release, 1);
  assert.equal(g.calls.retireGiftId, 1);
  assert.equal(g.clock.advance(1000), 0); // no deadline left armed
});

Deno.test("gift machine: idle -> awaitingDeposit -> given; a second withdraw is refused", () => {
  const g = gift();
  g.actor.send({ type: "withdraw", waiter: g.waiter("w1") });
  assert.equal(g.state(), "awaitingDeposit");
  g.actor.send({ type: "withdraw", waiter: g.waiter("w2") });
  g.actor.send({ type: "deposit", ref: "carol" });
  assert.equal(g.state(), "given");
  assert.deepEqual(g.settled, ["w2!gift-already-withdrawn", "w1:carol"]);
  assert.equal(g.calls.release, 1);
});

Deno.test("gift machine: named deadlines expire both waiting states", () => {
  const d = gift({ depositMs: 50, withdrawMs: 80 });
  d.actor.send({ type: "deposit", ref: "carol" });
  d.clock.advance(49);
  assert.equal(d.state(), "deposited");
  d.clock.advance(1);
  assert.equal(d.state(), "expired");
  assert.equal(d.calls.release, 1);

  const w = gift({ depositMs: 50, withdrawMs: 80 });
  w.actor.send({ type: "withdraw", waiter: w.waiter("w") });
  w.clock.advance(80);
  assert.equal(w.state(), "expired");
  assert.deepEqual(w.settled, ["w!gift-never-deposited"]);
  assert.equal(w.calls.release, 1);
  // Only a gift handed out retires its id; an expired one frees it.
  assert.equal(d.calls.retireGiftId ?? 0, 0);
  assert.equal(w.calls.retireGiftId ?? 0, 0);
});

Deno.test("gift machine: cancel from every live state reaches cancelled", () => {
  for (const first of [undefined, "deposit", "withdraw"] as const) {
    const g = gift();
    if (first === "deposit") g.actor.send({ type: "deposit", ref: "c" });
    if (first === "withdraw") {
      g.actor.send({ type: "withdraw", waiter: g.waiter("w") });
    }
    g.actor.send({ type: "cancel", reason: "closed" });
    assert.equal(g.state(), "cancelled");
    assert.equal(g.calls.release, 1);
    assert.equal(g.calls.retireGiftId ?? 0, 0);
    assert.deepEqual(
      g.settled,
      first === "withdraw" ? ["w!session-closed"] : [],
    );
    assert.equal(g.clock.advance(1000), 0);
  }
});

/** The receiver's machine with recording actions. */
function receiver(handoffMs = 100) {
  const clock = new ManualClock();
  const log: string[] = [];
  const rec = (name: string) => () => void log.push(name);
  const actor = createActor(
    receiveMachine.provide({
      actions: {
        connect: rec("connect"),
        withdraw: rec("withdraw"),
        fulfil: rec("fulfil"),
        breakPromise: rec("break"),
        release: rec("release"),
      },
    }),
    {
      input: { handoffMs },
      clock: {
        setTimeout: (fn, t) => clock.schedule(clock.now() + t, fn),
        clearTimeout: (c: () => void) => c(),
      },
    },
  );
  actor.start();
  return { actor, clock, log, state: () => actor.getSnapshot().value };
}

Deno.test("receive machine: connecting -> withdrawing -> resolved", () => {
  const r = receiver();
  assert.deepEqual(r.state(), { pending: "connecting" });
  r.actor.send({ type: "withdrawn", ref: "early" }); // ignored
  r.actor.send({ type: "connected", session: "bc" });
  assert.deepEqual(r.state(), { pending: "withdrawing" });
  assert.equal(r.actor.getSnapshot().context.session, "bc");
  r.actor.send({ type: "connected", session: "again" }); // ignored
  r.actor.send({ type: "withdrawn", ref: "carol" });
  assert.equal(r.state(), "resolved");
  assert.equal(r.actor.getSnapshot().context.ref, "carol");
  r.actor.send({ type: "failed", error: "late" }); // final: ignored
  assert.deepEqual(r.log, ["connect", "withdraw", "fulfil", "release"]);
  assert.equal(r.clock.advance(1000), 0);
});

Deno.test("receive machine: a failure while connecting or withdrawing breaks once", () => {
  for (const connected of [false, true]) {
    const r = receiver();
    if (connected) r.actor.send({ type: "connected", session: "bc" });
    r.actor.send({ type: "failed", error: "boom" });
    assert.equal(r.state(), "broken");
    assert.equal(r.actor.getSnapshot().context.error, "boom");
    assert.equal(r.log.filter((x) => x === "break").length, 1);
    assert.equal(r.log.at(-1), "release");
  }
});

Deno.test("receive machine: the handoff deadline breaks a stalled handoff", () => {
  const r = receiver(300);
  r.actor.send({ type: "connected", session: "bc" });
  r.clock.advance(299);
  assert.deepEqual(r.state(), { pending: "withdrawing" });
  r.clock.advance(1);
  assert.equal(r.state(), "broken");
  assert.equal(r.actor.getSnapshot().context.error, "handoff-deadline");
  assert.deepEqual(r.log, ["connect", "withdraw", "break", "release"]);
});
