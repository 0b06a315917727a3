/**
 * A hostile peer against the websocket netlayer, both ways, over real
 * loopback (STYLE.md: bad input never crashes, never corrupts a table,
 * never leaks; the misbehaving connection ends with a typed error and the
 * other sessions carry on). Frames come from _hostile_websocket.ts, the
 * raw client and the event observer from _hostile_websocket_peer.ts.
 *
 * Hostile client -> listener (with an OCapNNode on it): each sequence
 * opens a raw WebSocket and sends a challenge that is correct, mutated or
 * wrong (label, arity, payload, text, empty, oversize, two in a frame),
 * closes early, or stalls past the handshake deadline on the ManualClock.
 * The server must answer exactly the challenges a correct server accepts,
 * with an envelope signing the bytes sent, and close on the rest. Once
 * authenticated it sends op:start-session or not, then hostile CapTP
 * frames (garbage, text, empty, oversize, two or half messages, replays,
 * op:abort, a stall past the CapTP deadline) and a last fatal frame or a
 * close: when the server ends the connection, its last word is op:abort
 * (unless we aborted first), the reason never "internal". After every
 * sequence the listener, the node's sessions, its registry and the clock's
 * timers are back where they were; at the end an honest session made before
 * the run still answers, and a fresh one connects.
 * *
 * Closing the listener with hostile handshakes and connections in flight
 * ends every socket and leaves no timer.
 *
 * The hostile server against the client is websocket_client_hostile_test.ts.
 * `deno task test` runs 24 sequences from seed 1 (6 listener closes). Long
 * run, about 15 ms a sequence:
 *
 *   WEBSOCKET_FUZZ_SEQUENCES=2000 WEBSOCKET_FUZZ_SEED=7 \
 *     deno test -A tests/netlayers/websocket_hostile_test.ts
 *
 * Sequence i uses seed WEBSOCKET_FUZZ_SEED + i; a failure prints it and the
 * frames sent. Replay it alone with WEBSOCKET_FUZZ_SEED=<seed>
 * WEBSOCKET_FUZZ_SEQUENCES=1.
 */
import assert from "node:assert/strict";
import {
  designatorKey,
  makeChallenge,
} from "../../netlayers/_websocket_auth.ts";
import { E } from "../../runtime/e.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { GC_INTERVAL_MS } from "../../protocol/captp/imports.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { labelOf, record, SyrupRecord } from "../../protocol/syrup/value.ts";
import { hello } from "../protocol/captp/_helpers.ts";
import { crypto, listen } from "./_websocket_fixtures.ts";
import {
  type Frame,
  isChallenge,
  mutate,
  postAuthFrame,
  Prng,
  provesKey,
  wrongChallenge,
} from "./_hostile_websocket.ts";
import {
  checkObserved,
  observe,
  type Observed,
  observing,
  RawClient,
  until,
} from "./_hostile_websocket_peer.ts";
import { envNumber } from "../_env.ts";

const SEQUENCES = envNumber("WEBSOCKET_FUZZ_SEQUENCES", 24);
const SEED = envNumber("WEBSOCKET_FUZZ_SEED", 1);
const HANDSHAKE_MS = 5000;
const CAPTP_HANDSHAKE_MS = 7000;
const MAX_LENGTH = 4096;
const REFUSALS = ["bad challenge", "text frame", "no challenge"];

interface Victim {
  url: string;
  publicKey: Uint8Array;
  clock: ManualClock;
  seen: Observed[];
}

async function hostileClient(rng: Prng, v: Victim, log: string[]) {
  const raw = new RawClient(v.url, log);
  await raw.opened();
  let first: Frame | undefined;
  const roll = rng.next();
  if (roll < 0.45) first = makeChallenge(crypto);
  else if (roll < 0.6) {
    const [what, bytes] = mutate(rng, makeChallenge(crypto));
    log.push(`challenge ${what}`);
    first = bytes;
  } else if (roll < 0.82) {
    const [what, frame] = wrongChallenge(rng);
    log.push(`challenge ${what}`);
    first = frame;
  } else if (roll < 0.9) {
    const sent = rng.pick(
      [
        ["nothing", new Uint8Array()],
        ["half challenge", makeChallenge(crypto).subarray(0, 20)],
        ["challenge", makeChallenge(crypto)],
      ] as const,
    );
    if (sent[1].length > 0) raw.send(sent[0], sent[1]);
    raw.close();
  } else {
    log.push("stall");
    v.clock.advance(HANDSHAKE_MS);
    assert.equal((await raw.closed).reason, "no challenge");
  }
  if (first === undefined) return await raw.closed;
  raw.send("challenge", first);
  const burst = rng.chance(0.15);
  if (burst) {
    for (let i = rng.int(3); i >= 0; i--) {
      const step = postAuthFrame(rng, MAX_LENGTH, encode("hi"));
      raw.send(`burst ${step.what}`, step.frame);
    }
  }
  await raw.frame(1);
  if (!isChallenge(first)) {
    const event = await raw.closed;
    assert.equal(raw.frames.length, 0, "server answered a bad challenge");
    // Deno's server resets the TCP connection when it closes with frames
    // still unread (a burst after a large frame), so the close is unclean.
    if (!burst) {
      assert.equal(event.code, 1000, `close ${event.code} "${event.reason}"`);
      assert.ok(REFUSALS.includes(event.reason), event.reason);
    }
    return;
  }
  assert.ok(raw.frames.length > 0, "server refused a good challenge");
  const answer = raw.frames[0];
  assert.ok(provesKey(answer, first as Uint8Array, v.publicKey), "bad answer");
  let abortedByUs = false;
  const designator = encodeBase32(rng.bytes(32));
  const ours = { transport: "websocket", designator, hints: {} };
  const greeting = hello(ours);
  if (!burst && rng.chance(0.75)) raw.send("op:start-session", greeting);
  for (let i = burst ? 0 : rng.int(4); i > 0; i--) {
    const kind = rng.int(10);
    if (kind < 5) {
      const step = postAuthFrame(rng, MAX_LENGTH, greeting);
      raw.send(step.what, step.frame);
    } else if (kind === 5) raw.send("replayed challenge", first);
    else if (kind === 6) raw.send("replayed answer", answer);
    else if (kind === 7) {
      abortedByUs = true;
      raw.send("op:abort", encode(record("op:abort", "bye")));
    } else if (kind === 8) raw.send("second op:start-session", hello(ours));
    else {
      log.push("stall past the CapTP deadline");
      await raw.frame(2);
      v.clock.advance(CAPTP_HANDSHAKE_MS);
    }
  }
  if (rng.chance(0.3)) raw.close();
  else raw.send("last word", new TextEncoder().encode("]"));
  await raw.closed;
  const captp = raw.frames.slice(1);
  if (!raw.weClosed && !abortedByUs) {
    const last = captp.at(-1);
    assert.ok(last instanceof Uint8Array, "server closed without op:abort");
    const value = decode(last);
    assert.equal(labelOf(value), "op:abort", "server's last word");
    const reason = String((value as SyrupRecord).fields[0]);
    log.push(`op:abort ${JSON.stringify(reason)}`);
    assert.doesNotMatch(reason, /internal/i);
  }
}

Deno.test("websocket listener: a hostile client ends with a typed refusal or op:abort, leaks nothing, and other sessions carry on", async () => {
  const clock = new ManualClock();
  const netlayer = listen({
    clock,
    handshakeTimeoutMs: HANDSHAKE_MS,
    maxLength: MAX_LENGTH,
  });
  const node = new OCapNNode({ clock, handshakeTimeoutMs: CAPTP_HANDSHAKE_MS });
  const seen: Observed[] = [];
  node.listen(observing(netlayer, seen));
  const thing = node.vat.makeFar("Thing", { ping: (n: bigint) => n + 1n });
  const uri = node.publishUri(thing, { swiss: "thing" });
  const honest = new OCapNNode({ clock });
  honest.listen(listen({ clock }));
  const fresh = new OCapNNode({ clock });
  fresh.listen(listen({ clock }));
  try {
    const ref = await honest.enliven(uri);
    assert.equal(await E(ref).ping(1n), 2n);
    // The honest call's GC messages go out now rather than at the first
    // clock step of a sequence, so the timers counted below stay put.
    clock.advance(GC_INTERVAL_MS);
    const base = {
      connections: netlayer.connectionCount,
      sessions: node.sessions.length,
      live: node.registry.stats().live,
      timers: clock.pending,
    };
    const victim = {
      url: netlayer.location.hints.url,
      publicKey: designatorKey(netlayer.location.designator),
      clock,
      seen,
    };
    for (let i = 0; i < SEQUENCES; i++) {
      const seed = SEED + i;
      const log: string[] = [];
      const from = seen.length;
      try {
        await hostileClient(new Prng(seed), victim, log);
        await until(
          "the listener's connections",
          () =>
            netlayer.connectionCount === base.connections &&
            node.sessions.length === base.sessions &&
            node.registry.stats().live === base.live &&
            clock.pending === base.timers,
        );
        await checkObserved(seen.slice(from));
      } catch (error) {
        throw new Error(
          `Hostile client, WEBSOCKET_FUZZ_SEED=${seed}: ${
            (error as Error).message
          }\n  sent:\n    ${log.join("\n    ")}`,
          { cause: error },
        );
      }
    }
    assert.equal(await E(ref).ping(41n), 42n);
    assert.equal(await E(await fresh.enliven(uri)).ping(6n), 7n);
  } finally {
    await fresh.close();
    await honest.close();
    await node.close();
  }
  assert.equal(node.registry.stats().live, 0);
  assert.equal(netlayer.connectionCount, 0);
});

Deno.test("websocket listener: closing it with hostile handshakes and connections in flight ends every socket and leaves no timer", async () => {
  for (let i = 0; i < Math.max(1, SEQUENCES >> 2); i++) {
    const seed = SEED + i;
    const rng = new Prng(seed);
    const log: string[] = [];
    const clock = new ManualClock();
    const netlayer = listen({
      clock,
      handshakeTimeoutMs: HANDSHAKE_MS,
      maxLength: MAX_LENGTH,
    });
    const seen: Observed[] = [];
    netlayer.onAccept((c) => {
      seen.push(observe(c));
      c.attach({ message() {}, error() {}, close() {} });
    });
    const raws: RawClient[] = [];
    try {
      for (let k = 1 + rng.int(4); k > 0; k--) {
        const raw = new RawClient(netlayer.location.hints.url, log);
        raws.push(raw);
        await raw.opened();
        const state = rng.int(4);
        if (state === 0) log.push("silent");
        if (state === 1) {
          raw.send("half challenge", makeChallenge(crypto).subarray(0, 20));
        }
        if (state >= 2) {
          raw.send("challenge", makeChallenge(crypto));
          await raw.frame(1);
        }
        if (state === 3) {
          const step = postAuthFrame(rng, MAX_LENGTH, encode("hi"));
          raw.send(step.what, step.frame);
        }
      }
      log.push("listener closes");
      await netlayer.close();
      await Promise.all(raws.map((raw) => raw.closed));
      assert.equal(netlayer.connectionCount, 0);
      assert.equal(clock.pending, 0);
      await checkObserved(seen);
    } catch (error) {
      throw new Error(
        `Listener close, WEBSOCKET_FUZZ_SEED=${seed}: ${
          (error as Error).message
        }\n  sent:\n    ${log.join("\n    ")}`,
        { cause: error },
      );
    } finally {
      await netlayer.close();
    }
  }
});
