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
 * promise was left rejected.
 *
 * `deno task test` runs 60 sequences from seed 1 (about 1 s). Long run
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
import { Rng } from "./_hostile_noise_tcp.ts";
import {
  codeOf,
  envNumber,
  Fuzzing,
  runSequences,
} from "./_hostile_noise_tcp_watch.ts";
import {
  type Attack,
  ATTACKS,
  playAttack,
  TIMEOUT_MS,
} from "./_hostile_noise_tcp_dialer.ts";

const SEQUENCES = envNumber("NOISE_TCP_FUZZ_SEQUENCES", 60);
const SEED = envNumber("NOISE_TCP_FUZZ_SEED", 1);
/** Attacks that drive the clock or close the listener: never in a swarm. */
const SOLO = new Set<Attack>(["stall", "stall-final", "listener-closes"]);

async function runSequence(seed: number): Promise<void> {
  const rng = new Rng(seed);
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
    return { attack, xx, rng: new Rng(rng.int(2 ** 31)), f: f.sub(`#${i}`) };
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
