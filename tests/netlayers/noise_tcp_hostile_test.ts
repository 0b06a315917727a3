/**
 * A hostile DIALER against a NoiseTcpNetlayer listener (netlayers/noise_tcp.ts;
 * STYLE.md: bad input never crashes, never leaks a registry entry; the
 * misbehaving connection ends with a typed error and other sessions carry
 * on). The moves are in _hostile_noise_tcp_dialer.ts (handshake phase) and
 * _hostile_noise_tcp.ts (transport phase), the referee in
 * _hostile_noise_tcp_watch.ts; the hostile listener against a dialer is
 * noise_tcp_hostile_listener_test.ts.
 *
 * Each sequence opens a fresh listener on a ManualClock (sometimes forced
 * under load, so every dial goes through a cookie round) with an honest
 * session already open, then one hostile dialer over loopback: a broken
 * handshake (garbage, a mistyped, bit-flipped, truncated or stalled
 * initiation, a body of our choosing behind a valid mac1, a forged mac2,
 * an impostor's static, a bad message 3 or key confirmation, a replayed
 * handshake, the listener closed mid-handshake), or a correct IK/XX
 * handshake followed by transport steps: clean records (frames held back
 * and split at random points), then perhaps one tampered, replayed,
 * reordered, duplicated, mistyped, short, oversized, truncated or non-Syrup
 * one, while the victim sends a few messages back. Checks: every inbound
 * handshake failure is a NoiseError whose code that attack allows (exactly
 * one when it must fail); the accepted connection delivers exactly the
 * clean messages, then closes with an allowed code; every record it sent
 * opens, in order; the honest session still exchanges a message; once
 * closed, the registry is empty, the clock has nothing scheduled and no
 * promise was left rejected. Sometimes two to four hostile dialers run at
 * once. A second test puts a node (runtime/node.ts) behind the listener
 * and sends it non-CapTP bytes in good records: its session answers with
 * op:abort and ends, and its session with an honest node still answers.
 *
 * `deno task test` runs 60 sequences and 6 node sequences from seed 1
 * (about 1.5 s). Long run
 * (about 20 ms a sequence), NOISE_TCP_FUZZ_SUMMARY=1 printing how often
 * each move ended with each code:
 *
 *   NOISE_TCP_FUZZ_SEQUENCES=5000 NOISE_TCP_FUZZ_SEED=7 \
 *     deno test -A tests/netlayers/noise_tcp_hostile_test.ts
 *
 * Sequence i uses seed NOISE_TCP_FUZZ_SEED + i; a failure prints that seed
 * and what was sent. Replay one with NOISE_TCP_FUZZ_SEQUENCES=1 and
 * NOISE_TCP_FUZZ_SEED=<that seed>.
 */
import {
  type NoiseConnection,
  NoiseTcpNetlayer,
} from "../../netlayers/noise_tcp.ts";
import type { Connection } from "../../netlayers/types.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { Inbox } from "./_inbox.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { E } from "../../runtime/e.ts";
import {
  FrameReader,
  sealRecords,
  writeAll,
} from "../../netlayers/_noise_tcp_wire.ts";
import { SyrupStreamDecoder } from "../../protocol/syrup/stream.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../../protocol/syrup/value.ts";
import { dialPort, drained } from "./_netlayer_fixtures.ts";
import { HostileDialer, Prng, writeSplit } from "./_hostile_noise_tcp.ts";
import {
  codeOf,
  Fuzzing,
  runSequences,
  TIMEOUT_MS,
} from "./_hostile_noise_tcp_watch.ts";
import {
  type Attack,
  ATTACKS,
  playAttack,
} from "./_hostile_noise_tcp_dialer.ts";
import { envNumber } from "../_env.ts";

const SEQUENCES = envNumber("NOISE_TCP_FUZZ_SEQUENCES", 60);
const SEED = envNumber("NOISE_TCP_FUZZ_SEED", 1);
/** Node sequences cost a CapTP session each way: a tenth as many. */
const NODE_SEQUENCES = Math.max(1, Math.ceil(SEQUENCES / 10));
/** Attacks that drive the clock or close the listener: never in a swarm. */
const SOLO = new Set<Attack>(["stall", "stall-final", "listener-closes"]);

async function runSequence(seed: number): Promise<void> {
  const rng = new Prng(seed);
  const f = new Fuzzing(seed);
  const clock = new ManualClock(rng.int(3));
  const failures: Error[] = [];
  const server = NoiseTcpNetlayer.listen({
    clock,
    handshakeTimeoutMs: TIMEOUT_MS,
    onHandshakeFailure: (error) => failures.push(error),
    rekeyAfterMessages: 1 + rng.int(4),
  });
  const client = NoiseTcpNetlayer.listen({
    clock,
    rekeyAfterMessages: 1 + rng.int(4),
  });
  const accepted: NoiseConnection[] = [];
  const waiting: (() => void)[] = [];
  server.onAccept((c) => {
    accepted.push(c as NoiseConnection);
    for (const wake of waiting.splice(0)) wake();
  });
  const acceptedFor = async (designator: string) => {
    for (;;) {
      const found = accepted.find((c) => c.remoteDesignator === designator);
      if (found) return found;
      await new Promise<void>((r) => waiting.push(r));
    }
  };
  const underLoad = rng.chance(0.25);
  server.forceUnderLoad = underLoad;
  // Mostly one hostile dialer; sometimes a few at once.
  const count = rng.chance(0.25) ? 2 + rng.int(3) : 1;
  const plans = Array.from({ length: count }, (_, i) => {
    let attack: Attack = rng.chance(0.5) ? "honest" : rng.pick(ATTACKS);
    if (count > 1 && SOLO.has(attack)) attack = "honest";
    const xx = rng.chance(0.4);
    f.log(`#${i}: under load ${underLoad}, ${xx ? "XX" : "IK"}, ${attack}`);
    return { attack, xx, rng: new Prng(rng.int(2 ** 31)), f: f.sub(`#${i}`) };
  });
  try {
    const honest = await client.connect(server.location);
    const honestThere = await acceptedFor(client.location.designator);
    const allowed = await f.guard(
      Promise.all(
        plans.map((plan) =>
          playAttack({
            ...plan,
            server,
            clock,
            underLoad,
            acceptedFor,
            solo: count === 1,
          })
        ),
      ),
    );
    if (plans.every((plan) => plan.attack !== "listener-closes")) {
      await f.guard(honestExchange(honest, honestThere, f));
    }
    // Before close (which empties a registry by force): nothing in flight.
    f.check(server.registry.stats().live === 0, "server registry leaked");
    f.check(client.registry.stats().live === 0, "client registry leaked");
    await server.close();
    const codes = failures.map(codeOf);
    for (const plan of plans) {
      f.outcome(`${plan.attack}${count > 1 ? " (swarm)" : ""}: ${codes}`);
    }
    const any = allowed.flat();
    for (const error of failures) {
      f.check(
        any.includes(codeOf(error)),
        `handshake failure "${codeOf(error)}" (${error.message}) not in ${any}`,
      );
    }
    const mustFail = allowed.filter((a) => !a.includes("none")).length;
    f.check(
      mustFail <= failures.length && failures.length <= count,
      `${failures.length} handshake failures, expected ${mustFail}`,
    );
  } finally {
    await server.close();
    await client.close();
  }
  f.check(server.registry.stats().live === 0, "server registry not empty");
  f.check(client.registry.stats().live === 0, "client registry not empty");
  f.check(clock.pending === 0, `${clock.pending} clock callbacks left`);
}

/** The honest session still carries a message each way. */
async function honestExchange(a: Connection, b: Connection, f: Fuzzing) {
  const inA = new Inbox(a);
  const inB = new Inbox(b);
  a.send(encode("ping"));
  b.send(encode("pong"));
  const [[gotB], [gotA]] = await Promise.all([inB.take(1), inA.take(1)]);
  f.check(gotB === "ping" && gotA === "pong", "honest session broke");
  await a.close();
}

Deno.test(`noise-tcp hostile dialer: ${SEQUENCES} seeded sequences from seed ${SEED} end with typed errors and leave nothing behind`, async () => {
  await runSequences(SEED, SEQUENCES, runSequence);
});

/**
 * CapTP bytes of a hostile peer inside good records, against a node
 * (runtime/node.ts) serving on noise-tcp: its session with that peer sends
 * op:abort and ends, and its session with an honest node keeps answering.
 */
async function runNodeSequence(seed: number): Promise<void> {
  const rng = new Prng(seed);
  const f = new Fuzzing(seed);
  const carol = new OCapNNode();
  const alice = new OCapNNode();
  const server = NoiseTcpNetlayer.listen({ lingerMs: 50 });
  carol.listen(server);
  alice.listen(NoiseTcpNetlayer.listen({ lingerMs: 50 }));
  const greeter = carol.vat.makeFar("Greeter", {
    greet: (who: string) => `hello ${who}`,
  });
  try {
    const remote = await alice.enliven(carol.publish(greeter));
    f.check(await E(remote).greet("alice") === "hello alice", "first call");
    // A hand-run IK dial: message 1, message 2, an empty key confirmation.
    const dialer = new HostileDialer(server, {
      clock: new ManualClock(0),
      xx: false,
      rekeyAfterMessages: 1 + rng.int(3),
      impostor: false,
    });
    const conn = await dialPort(server);
    await writeAll(conn, dialer.initiation());
    const reader = new FrameReader(conn);
    const m2 = await reader.next();
    const transport = dialer.initiator.receive(m2!.body.slice()).established
      .transport;
    await writeAll(conn, sealRecords(transport, new Uint8Array(0)));
    const heard: SyrupValue[] = [];
    const decoder = new SyrupStreamDecoder({
      framing: "bare",
      maxLength: 1 << 20,
      maxDepth: 64,
    });
    const listening = drained(async () => {
      const frame = await reader.next();
      if (frame === null) return null;
      const plaintext = transport.open(frame.body);
      heard.push(...decoder.push(plaintext, plaintext.length).values);
      return frame;
    });
    const kind = rng.pick(["not-syrup", "not-an-op", "unknown-op", "deep"]);
    const payload = kind === "not-syrup"
      ? Uint8Array.of(rng.pick([0x5d, 0x7d, 0x2c, 0x00]), ...rng.bytes(20))
      : kind === "not-an-op"
      ? encode(rng.chance(0.5) ? "hello" : BigInt(rng.int(1000)))
      : kind === "unknown-op"
      ? encode(record("op:bogus", 1n))
      : new TextEncoder().encode("[".repeat(100) + "]".repeat(100));
    f.log(`${kind}: ${payload.length} bytes`);
    await writeSplit(rng, conn, sealRecords(transport, payload));
    await listening;
    const aborted = heard.some((v) =>
      v instanceof SyrupRecord && v.label === Symbol.for("op:abort")
    );
    f.check(aborted, `no op:abort among ${heard.length} messages`);
    conn.close();
    transport.close();
    f.check(await E(remote).greet("again") === "hello again", "later call");
    f.check(carol.sessions.length === 1, `${carol.sessions.length} sessions`);
    f.check(server.registry.stats().live === 0, "netlayer registry leaked");
  } finally {
    await alice.close();
    await carol.close();
  }
  f.check(carol.registry.stats().live === 0, "carol's registry not empty");
}

Deno.test(`noise-tcp hostile dialer: non-CapTP bytes in good records get op:abort from a node, whose other session carries on (${NODE_SEQUENCES} seeds from ${SEED})`, async () => {
  await runSequences(SEED, NODE_SEQUENCES, runNodeSequence);
});
