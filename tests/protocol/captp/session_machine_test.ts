/**
 * The invariants listed in protocol/captp/session_machine.ts, asserted on
 * the machine itself: every state meets every event (and both named
 * delays), and seeded random paths keep invariants 1-6.
 */

import assert from "node:assert/strict";
import { type Actor, createActor } from "xstate";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import {
  SESSION_EVENTS,
  type SessionEvent,
  sessionMachine,
  type SessionState,
} from "../../../protocol/captp/session_machine.ts";

const HANDSHAKE_MS = 1000;
const GRACE_MS = 100;

/** The machine with recording actions, on a manual clock. */
class Probe {
  readonly clock = new ManualClock();
  readonly calls: string[] = [];
  readonly actor: Actor<typeof sessionMachine>;

  constructor(options: { handshakeTimeoutMs?: number } = {}) {
    const note =
      (name: string) => ({ context }: { context: { reason?: string } }) =>
        void this.calls.push(`${name}(${context.reason})`);
    const machine = sessionMachine.provide({
      actions: {
        sendHello: () => void this.calls.push("sendHello"),
        opened: () => void this.calls.push("opened"),
        sendAbort: note("sendAbort"),
        sever: note("sever"),
        closeConnection: note("closeConnection"),
        finish: note("finish"),
      },
    });
    const clock = this.clock;
    this.actor = createActor(machine, {
      input: {
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? HANDSHAKE_MS,
        abortGraceMs: GRACE_MS,
      },
      clock: {
        setTimeout: (fn, ms) => clock.schedule(clock.now() + ms, fn),
        clearTimeout: (cancel: () => void) => cancel(),
      },
    });
    this.actor.start();
  }

  get state(): SessionState {
    return this.actor.getSnapshot().value as SessionState;
  }

  /** An event, or a named delay's worth of time passing. */
  apply(event: Step): void {
    if (event === "handshakeTimeout") this.clock.advance(HANDSHAKE_MS);
    else if (event === "abortGrace") this.clock.advance(GRACE_MS);
    else this.actor.send(withReason(event));
  }

  count(name: string): number {
    return this.calls.filter((c) => c.startsWith(name)).length;
  }
}

type Step = SessionEvent["type"] | "handshakeTimeout" | "abortGrace";
const STEPS: Step[] = [...SESSION_EVENTS, "handshakeTimeout", "abortGrace"];

function withReason(type: SessionEvent["type"]): SessionEvent {
  return (type === "hello.rejected" || type === "abort.local" ||
      type === "abort.received" || type === "connection.closed")
    ? { type, reason: "why" }
    : { type } as SessionEvent;
}

/** How each state is reached, and how many timers run there. */
const REACH: Record<SessionState, { path: Step[]; timers: number }> = {
  connecting: { path: [], timers: 1 },
  awaitingPeer: { path: ["hello.sent"], timers: 1 },
  open: { path: ["hello.sent", "hello.accepted"], timers: 0 },
  aborting: {
    path: ["hello.sent", "hello.accepted", "abort.local"],
    timers: 1,
  },
  closed: { path: ["connection.closed"], timers: 0 },
};

const ends = (
  r: string,
) => [`sendAbort(${r})`, `sever(${r})`, `closeConnection(${r})`];
const early = "message before op:start-session";
const second = "second op:start-session";
const timedOut = "handshake timed out";
const received = ["sever(why)", "closeConnection(why)", "finish(why)"];
const lost = ["sever(why)", "finish(why)"];

/** state -> step -> [next state, actions run]. */
const TABLE: Record<SessionState, Record<Step, [SessionState, string[]]>> = {
  connecting: {
    "hello.sent": ["awaitingPeer", []],
    "hello.accepted": ["open", ["sendHello", "opened"]],
    "hello.rejected": ["aborting", ends("why")],
    message: ["aborting", ends(early)],
    "abort.local": ["aborting", ends("why")],
    "abort.received": ["closed", received],
    "connection.closed": ["closed", lost],
    handshakeTimeout: ["aborting", ends(timedOut)],
    abortGrace: ["connecting", []],
  },
  awaitingPeer: {
    "hello.sent": ["awaitingPeer", []],
    "hello.accepted": ["open", ["opened"]],
    "hello.rejected": ["aborting", ends("why")],
    message: ["aborting", ends(early)],
    "abort.local": ["aborting", ends("why")],
    "abort.received": ["closed", received],
    "connection.closed": ["closed", lost],
    handshakeTimeout: ["aborting", ends(timedOut)],
    abortGrace: ["awaitingPeer", []],
  },
  open: {
    "hello.sent": ["open", []],
    "hello.accepted": ["aborting", ends(second)],
    "hello.rejected": ["aborting", ends(second)],
    message: ["open", []],
    "abort.local": ["aborting", ends("why")],
    "abort.received": ["closed", received],
    "connection.closed": ["closed", lost],
    handshakeTimeout: ["open", []],
    abortGrace: ["open", []],
  },
  // Reached with reason "why"; later reasons never replace the first.
  aborting: {
    "hello.sent": ["aborting", []],
    "hello.accepted": ["aborting", []],
    "hello.rejected": ["aborting", []],
    message: ["aborting", []],
    "abort.local": ["aborting", []],
    "abort.received": ["closed", ["finish(why)"]],
    "connection.closed": ["closed", ["finish(why)"]],
    handshakeTimeout: ["closed", ["finish(why)"]], // the grace ran out first
    abortGrace: ["closed", ["finish(why)"]],
  },
  closed: ignoresAll("closed"),
};

function ignoresAll(state: SessionState) {
  const outcomes = {} as Record<Step, [SessionState, string[]]>;
  for (const step of STEPS) outcomes[step] = [state, []];
  return outcomes;
}

for (const state of Object.keys(REACH) as SessionState[]) {
  Deno.test(`session machine: every event in ${state} has its defined outcome`, () => {
    for (const step of STEPS) {
      const probe = new Probe();
      for (const s of REACH[state].path) probe.apply(s);
      assert.equal(probe.state, state);
      assert.equal(
        probe.clock.pending,
        REACH[state].timers,
        `timers in ${state}`,
      );
      const before = probe.calls.length;
      probe.apply(step);
      const [next, actions] = TABLE[state][step];
      assert.equal(probe.state, next, `${state} + ${step}`);
      assert.deepEqual(
        probe.calls.slice(before),
        actions,
        `${state} + ${step}`,
      );
      assert.equal(
        probe.clock.pending,
        REACH[next].timers,
        `timers after ${step}`,
      );
      assert.equal(
        probe.actor.getSnapshot().status,
        next === "closed" ? "done" : "active",
      );
    }
  });
}

Deno.test("session machine: the handshake timer is named, reads the input and fires once", () => {
  const probe = new Probe({ handshakeTimeoutMs: 5000 });
  probe.apply("hello.sent");
  probe.clock.advance(4999);
  assert.equal(probe.state, "awaitingPeer");
  probe.clock.advance(1);
  assert.equal(probe.state, "aborting");
  assert.deepEqual(probe.calls, ends(timedOut));
  // It is cancelled on open: a slow-but-successful handshake stays open.
  const late = new Probe({ handshakeTimeoutMs: 5000 });
  late.apply("hello.sent");
  late.clock.advance(4999);
  late.apply("hello.accepted");
  late.clock.advance(10_000);
  assert.equal(late.state, "open");
  assert.equal(late.clock.pending, 0);
});

/** A small deterministic PRNG (mulberry32), so failures replay. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("session machine: 1,000 random paths keep every listed invariant", () => {
  const next = rng(20240611);
  for (let run = 0; run < 1000; run++) {
    const probe = new Probe();
    const path: Step[] = [];
    let farewell: Step | undefined; // first peer abort or lost connection
    for (let i = 0; i < 10; i++) {
      const step = STEPS[Math.floor(next() * STEPS.length)];
      path.push(step);
      const wasLive = probe.state !== "aborting" && probe.state !== "closed";
      if (
        farewell === undefined && wasLive &&
        (step === "abort.received" || step === "connection.closed")
      ) farewell = step;
      probe.apply(step); // invariant 6: nothing throws
      // 5. the handshake timer runs only while the handshake runs.
      if (probe.state === "open" || probe.state === "closed") {
        assert.equal(probe.clock.pending, 0, path.join(" "));
      } else {
        assert.equal(probe.clock.pending, 1, path.join(" "));
      }
    }
    // Drive every path to its end.
    probe.apply("connection.closed");
    probe.clock.runAll();
    const at = path.join(" ");
    assert.equal(probe.state, "closed", at);
    assert.equal(probe.count("sever"), 1, `1. sever once: ${at}`);
    assert.ok(probe.count("sendAbort") <= 1, `2. abort at most once: ${at}`);
    if (farewell !== undefined) {
      assert.equal(probe.count("sendAbort"), 0, `2. no abort after: ${at}`);
    }
    assert.ok(probe.count("opened") <= 1, `3. opened at most once: ${at}`);
    assert.equal(probe.count("finish"), 1, `4. finish once: ${at}`);
    assert.equal(probe.calls.at(-1)!.startsWith("finish"), true, at);
    // 3. opened only on entry to open: it follows hello.accepted.
    const opened = probe.calls.indexOf("opened");
    if (opened >= 0) assert.ok(path.includes("hello.accepted"), at);
  }
});
