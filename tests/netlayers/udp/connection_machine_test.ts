import assert from "node:assert/strict";
import { MachineDriver } from "../../../protocol/machine_driver.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import {
  connectionMachine,
  type ConnectionMachineInput,
  DEFAULT_IDLE_EXPIRY_MS,
  type EndState,
  HANDSHAKE_RETRANSMIT_CAP_MS,
  handshakeDeadline,
} from "../../../netlayers/udp/connection_machine.ts";

function start(input: Partial<ConnectionMachineInput> = {}) {
  const clock = new ManualClock();
  const log = {
    initiations: 0,
    cookies: [] as Uint8Array[],
    ends: [] as [EndState, Error | undefined][],
  };
  // As the netlayer runs it (netlayers/udp/endpoint_slot.ts).
  const actor = new MachineDriver(connectionMachine, {
    sendInitiation: () => log.initiations++,
    resendWithCookie: (reply) => log.cookies.push(reply),
    end: (state, error) => log.ends.push([state, error]),
    address: "127.0.0.1:1",
    handshakeRetransmitMs: 100,
    maxHandshakeAttempts: 3,
    silentPeerMs: 1000,
    ...input,
  }, { clock });
  const state = () => JSON.stringify(actor.getSnapshot().value);
  return { clock, actor, log, state };
}

Deno.test("connectionMachine resends the initiation with doubling waits and fails after the last attempt", () => {
  const { clock, actor, log, state } = start();
  assert.equal(state(), '"idle"');
  actor.send({ type: "DIAL" });
  assert.equal(state(), '"handshaking"');
  assert.equal(log.initiations, 1);
  clock.advance(100);
  assert.equal(log.initiations, 2, "first resend after 100 ms");
  clock.advance(199);
  assert.equal(log.initiations, 2);
  clock.advance(1);
  assert.equal(log.initiations, 3, "second resend 200 ms later");
  clock.advance(399);
  assert.equal(state(), '"handshaking"');
  clock.advance(1);
  assert.equal(state(), '"failed"', "failed 400 ms after the last flight");
  assert.equal(log.ends.length, 1);
  assert.match(log.ends[0][1]!.message, /unanswered after "3" attempts/);
  clock.advance(10_000);
  assert.equal(log.initiations, 3, "no handshake datagram after the end");
  assert.equal(clock.pending, 0);
});

Deno.test("connectionMachine caps the retransmission wait and handshakeDeadline() sums the waits", () => {
  const { clock, actor, log } = start({
    handshakeRetransmitMs: 1_000,
    maxHandshakeAttempts: 6,
  });
  const sentAt: number[] = [];
  const input = actor.getSnapshot().context.input;
  actor.send({ type: "DIAL" });
  while (log.ends.length === 0) {
    if (sentAt.length < log.initiations) sentAt.push(clock.now());
    clock.advance(1);
  }
  assert.equal(HANDSHAKE_RETRANSMIT_CAP_MS, 4_000);
  assert.deepEqual(sentAt, [0, 1_000, 3_000, 7_000, 11_000, 15_000]);
  assert.equal(clock.now(), 19_000);
  assert.equal(handshakeDeadline(input), 19_000);
  assert.equal(handshakeDeadline({}), 15_000, "the default: 1+2+4+4+4 s");
  assert.equal(
    handshakeDeadline({
      handshakeRetransmitMs: 9_000,
      maxHandshakeAttempts: 2,
    }),
    18_000,
    "a first wait above the cap is kept",
  );
});

Deno.test("connectionMachine answers a cookie reply and then establishes", () => {
  const { clock, actor, log, state } = start();
  actor.send({ type: "DIAL" });
  actor.send({ type: "COOKIE", reply: new Uint8Array([1]) });
  assert.equal(log.cookies.length, 1);
  actor.send({ type: "ESTABLISHED" });
  assert.equal(state(), '{"established":"quiet"}');
  clock.advance(1000);
  assert.equal(log.initiations, 1, "no resend once established");
  actor.send({ type: "CLOSE" });
  assert.deepEqual(log.ends, [["closed", undefined]]);
  assert.equal(clock.pending, 0);
});

Deno.test("connectionMachine keeps an idle session cached until idle expiry", () => {
  const { clock, actor, log, state } = start({ idleExpiryMs: undefined });
  actor.send({ type: "ESTABLISHED" });
  clock.advance(DEFAULT_IDLE_EXPIRY_MS - 1);
  actor.send({ type: "ACTIVITY" });
  clock.advance(DEFAULT_IDLE_EXPIRY_MS - 1);
  assert.equal(
    state(),
    '{"established":"quiet"}',
    "activity restarted the idle timer",
  );
  clock.advance(1);
  assert.equal(state(), '"expired"');
  assert.deepEqual(log.ends, [["expired", undefined]]);
  assert.equal(clock.pending, 0);
});

Deno.test("connectionMachine fails a session whose peer is silent with work pending", () => {
  const { clock, actor, log, state } = start();
  actor.send({ type: "ESTABLISHED" });
  actor.send({ type: "WORK" });
  assert.equal(state(), '{"established":"active"}');
  clock.advance(900);
  actor.send({ type: "ACTIVITY" });
  clock.advance(900);
  actor.send({ type: "QUIET" });
  actor.send({ type: "WORK" });
  clock.advance(999);
  assert.equal(state(), '{"established":"active"}');
  clock.advance(1);
  assert.equal(state(), '"failed"');
  assert.match(log.ends[0][1]!.message, /silent/);
});

Deno.test("connectionMachine rebinds the address only once established", () => {
  const { actor, log } = start();
  actor.send({ type: "DIAL" });
  actor.send({ type: "REBIND", address: "10.0.0.9:9" });
  assert.equal(actor.getSnapshot().context.address, "127.0.0.1:1");
  actor.send({ type: "ESTABLISHED" });
  actor.send({ type: "REBIND", address: "127.0.0.2:2" });
  assert.equal(actor.getSnapshot().context.address, "127.0.0.2:2");
  const error = new Error("silent");
  actor.send({ type: "PEER_SILENT", error });
  assert.deepEqual(log.ends, [["failed", error]]);
});

Deno.test("connectionMachine fails on a handshake error and closes from idle", () => {
  const a = start();
  a.actor.send({ type: "DIAL" });
  const error = new Error("bad message 2");
  a.actor.send({ type: "HANDSHAKE_ERROR", error });
  assert.deepEqual(a.log.ends, [["failed", error]]);
  assert.equal(a.clock.pending, 0);
  const b = start();
  b.actor.send({ type: "CLOSE" });
  b.actor.send({ type: "CLOSE" });
  assert.deepEqual(b.log.ends, [["closed", undefined]]);
});
