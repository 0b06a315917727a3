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
import { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
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
  const accepted: Connection[] = [];
  let wake: (() => void) | undefined;
  server.onAccept((c) => {
    accepted.push(c);
    wake?.();
  });
  const nextAccepted = async (n: number) => {
    while (accepted.length < n) await new Promise<void>((r) => wake = r);
    return accepted[n - 1];
  };
  const underLoad = rng.chance(0.25);
  server.forceUnderLoad = underLoad;
  const xx = rng.chance(0.4);
  const attack: Attack = rng.chance(0.5) ? "honest" : rng.pick(ATTACKS);
  f.log(`under load ${underLoad}, ${xx ? "XX" : "IK"}, attack ${attack}`);
  try {
    const honest = await client.connect(server.location);
    const honestThere = await nextAccepted(1);
    const allowed = await f.guard(
      playAttack({
        rng,
        f,
        server,
        clock,
        xx,
        attack,
        underLoad,
        nextAccepted,
      }),
    );
    if (attack !== "listener-closes") {
      await f.guard(honestExchange(honest, honestThere, f));
    }
    await server.close();
    f.outcome(`${attack}: ${failures.map(codeOf).join(",") || "none"}`);
    for (const error of failures) {
      f.check(
        allowed.includes(codeOf(error)),
        `handshake failure "${
          codeOf(error)
        }" (${error.message}) not in ${allowed}`,
      );
    }
    const mustFail = !allowed.includes("none");
    f.check(
      failures.length === (mustFail ? 1 : failures.length) &&
        failures.length <= 1,
      `${failures.length} handshake failures`,
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
