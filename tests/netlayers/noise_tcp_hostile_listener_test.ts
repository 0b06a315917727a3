/**
 * A hostile LISTENER against a NoiseTcpNetlayer dialer (netlayers/noise_tcp.ts,
 * netlayers/_noise_tcp_handshake.ts), the other half of
 * noise_tcp_hostile_test.ts (whose header has the design and the long-run
 * workflow; NOISE_TCP_FUZZ_SEQUENCES, NOISE_TCP_FUZZ_SEED and
 * NOISE_TCP_FUZZ_SUMMARY apply here too). The moves are in
 * _hostile_noise_tcp_listener.ts.
 *
 * Each sequence has the victim (on a ManualClock) dial a raw loopback
 * listener that plays the responder by hand, with IK or XX. The listener
 * answers with garbage, a mistyped frame, a transport record before the
 * handshake is done, a bit-flipped or truncated message 2 or one with a
 * low-order ephemeral, an impostor's static, a cookie reply that does not
 * open (tampered, or sealed for another initiation), more cookie rounds
 * than a dialer goes through, silence the clock times out, a close, the
 * victim closing while it dials, or an honest message 2 (after up to two
 * cookie rounds, perhaps with a record already behind it) and then the
 * transport steps of _hostile_noise_tcp.ts. Checks: a failed dial is a
 * ConnectFailedError whose cause is a NoiseError with a code that answer
 * allows; an established connection delivers exactly the clean messages,
 * and closes with an allowed code; the victim then dials an honest listener
 * and exchanges a message; once closed, its registry is empty and its
 * clock has nothing scheduled.
 *
 * `deno task test` runs 100 sequences from seed 1 (about 0.5 s).
 */
import { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { NoiseError } from "../../netlayers/noise/errors.ts";
import { PeerResponder } from "../../netlayers/noise/peer_handshake.ts";
import { NOISE_TCP_PROLOGUE } from "../../netlayers/noise_tcp.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { Inbox } from "./_inbox.ts";
import { accepting } from "./_netlayer_fixtures.ts";
import { makeIdentity } from "./noise/_fixtures.ts";
import { Prng } from "./_hostile_noise_tcp.ts";
import {
  codeOf,
  Fuzzing,
  runSequences,
  TIMEOUT_MS,
} from "./_hostile_noise_tcp_watch.ts";
import {
  type Answer,
  ANSWERS,
  play,
  RawListener,
} from "./_hostile_noise_tcp_listener.ts";
import { envNumber } from "../_env.ts";

const SEQUENCES = envNumber("NOISE_TCP_FUZZ_SEQUENCES", 100);
const SEED = envNumber("NOISE_TCP_FUZZ_SEED", 1);

async function runSequence(seed: number): Promise<void> {
  const rng = new Prng(seed);
  const f = new Fuzzing(seed);
  const clock = new ManualClock(rng.int(3));
  const victim = NoiseTcpNetlayer.listen({
    clock,
    handshakeTimeoutMs: TIMEOUT_MS,
    rekeyAfterMessages: 1 + rng.int(4),
  });
  const raw = new RawListener();
  const honestServer = NoiseTcpNetlayer.listen();
  const identity = makeIdentity();
  const xx = rng.chance(0.4);
  let answer: Answer = rng.chance(0.5) ? "honest" : rng.pick(ANSWERS);
  // Only XX lets a listener answer without the locator's key at all.
  if (answer === "impostor" && !xx) answer = "close";
  f.log(`${xx ? "XX" : "IK"}, answer ${answer}`);
  const host = "127.0.0.1";
  const dial = xx
    ? victim.connectWithoutKey({ host, port: raw.port })
    : victim.connect({
      transport: "noise-tcp",
      designator: encodeBase32(identity.ed25519.publicKey),
      hints: { host, port: String(raw.port) },
    });
  const settled = dial.then(
    (c) => ({ c, e: undefined }),
    (e) => ({ c: undefined, e }),
  );
  const responder = new PeerResponder(nativeCrypto, {
    // The impostor claims `identity` while holding another static.
    identity: answer === "impostor"
      ? { ...identity, x25519: makeIdentity().x25519, staticStatic: undefined }
      : identity,
    prologue: NOISE_TCP_PROLOGUE,
    transport: { rekeyAfterMessages: 1 + rng.int(3), clock },
  });
  try {
    const allowed = await f.guard(
      play({
        rng,
        f,
        raw,
        clock,
        xx,
        answer,
        responder,
        identity,
        settled,
        victim,
      }),
    );
    const { c, e } = await settled;
    f.outcome(`${answer}: ${e === undefined ? "none" : codeOf(e.cause)}`);
    if (e !== undefined) {
      f.check(
        e instanceof ConnectFailedError,
        `dial rejected with ${codeOf(e)}`,
      );
      const cause = (e as Error).cause;
      f.check(
        cause instanceof NoiseError && allowed.includes(cause.code),
        `dial failed with "${codeOf(cause)}" (${
          (e as Error).message
        }), expected ${allowed}`,
      );
    } else {
      f.check(allowed.includes("none"), `dial succeeded, expected ${allowed}`);
      await c!.close();
    }
    // Before close (which empties a registry by force): nothing in flight.
    f.check(victim.registry.stats().live === 0, "victim registry leaked");
    if (answer !== "victim-closes") {
      await f.guard(honestDial(victim, honestServer, f));
      f.check(victim.registry.stats().live === 0, "registry leaked on a dial");
    }
  } finally {
    responder.destroy();
    await raw.close();
    await Promise.all([victim.close(), honestServer.close()]);
  }
  f.check(victim.registry.stats().live === 0, "victim registry not empty");
  f.check(clock.pending === 0, `${clock.pending} clock callbacks left`);
}

async function honestDial(
  victim: NoiseTcpNetlayer,
  server: NoiseTcpNetlayer,
  f: Fuzzing,
): Promise<void> {
  const there = accepting(server);
  const here = await victim.connect(server.location);
  const inbox = new Inbox(await there);
  here.send(encode("still here"));
  const [got] = await inbox.take(1);
  f.check(got === "still here", "the victim's next dial broke");
  await here.close();
}

Deno.test(`noise-tcp hostile listener: ${SEQUENCES} seeded sequences from seed ${SEED} fail dials with typed errors and leave nothing behind`, async () => {
  await runSequences(SEED, SEQUENCES, runSequence);
});
