/**
 * A hostile peer against an open session (STYLE.md: bad input never
 * crashes, never corrupts a table, never leaks a registry entry; a
 * misbehaving peer gets op:abort with a reason and the other sessions carry
 * on). Each sequence opens a fresh bob (with gifts and handoffs, as
 * runtime/node.ts wires them) whose vat also has an honest session with
 * carol, then feeds bob up to 30 messages from _hostile.ts. After every
 * message bob is open with consistent tables, or has written op:abort with
 * a reason as his last word (or, after the peer's op:abort, said nothing);
 * a message the generator marks clean (every field one a well-behaved peer
 * may send) is aborted only for a peer's fault. At the end carol's session
 * still answers a call and finish() finds every table and registry empty.
 *
 * `deno task test` runs 200 sequences from seed 1 (about 2 s). Long run,
 * about 9 ms a sequence, printing a summary of the abort reasons:
 *
 *   CAPTP_FUZZ_SEQUENCES=20000 CAPTP_FUZZ_SEED=7 \
 *     deno test -A tests/protocol/captp/hostile_test.ts
 *
 * Sequence i uses seed CAPTP_FUZZ_SEED + i. A failure prints that seed and
 * the last messages both ways; replay it alone with
 * CAPTP_FUZZ_SEED=<that seed> CAPTP_FUZZ_SEQUENCES=1, and add
 * CAPTP_FUZZ_SHOW=<part of a reason> to print sequences aborted for it.
 */

import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { Registry } from "../../../protocol/registry.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import { SyrupRecord, type SyrupValue } from "../../../protocol/syrup/value.ts";
import { Tagged } from "../../../protocol/model.ts";
import type { Clock } from "../../../protocol/clock.ts";
import type { CapTPSession } from "../../../protocol/captp/session.ts";
import { SessionDirectory } from "../../../protocol/captp/directory.ts";
import { GiftTable } from "../../../protocol/captp/gifts.ts";
import { HandoffRoles } from "../../../protocol/captp/handoff_roles.ts";
import {
  far,
  finish,
  makeVat,
  ManualFinalizer,
  send,
  sendOnly,
  testHost,
  type Vat,
} from "./_harness.ts";
import { bytes, RawPeer, show } from "./_helpers.ts";
import { HostileGenerator } from "./_hostile.ts";
import { envNumber, envString } from "../../_env.ts";

const SEQUENCES = envNumber("CAPTP_FUZZ_SEQUENCES", 200);
const SEED = envNumber("CAPTP_FUZZ_SEED", 1);
const MAX_MESSAGES = 30;
/** Long runs: print the sequences whose abort reason contains this. */
const SHOW = envString("CAPTP_FUZZ_SHOW");

/** Bob's vat as runtime/node.ts builds one: gifts and handoffs included. */
function makeBob(clock: Clock): Vat {
  const randomBytes = nativeCrypto.randomBytes;
  const registry = new Registry({ clock });
  const gifts = new GiftTable({
    registry,
    crypto: nativeCrypto,
    findSession: (id): CapTPSession | undefined => directory.findById(id),
    depositMs: 1000,
    withdrawMs: 1000,
  });
  const directory: SessionDirectory = new SessionDirectory({
    randomBytes,
    gifts,
  });
  directory.handoffs = new HandoffRoles({
    directory,
    host: testHost,
    registry,
    crypto: nativeCrypto,
    randomBytes,
    handoffMs: 1000,
  });
  const thing = far({
    echo: (...args: unknown[]) => args,
    self: () => thing,
    pair: () => [thing, thing],
    data: () => ({ name: "thing", n: 1n, list: [1n, thing] }),
    tagged: () => new Tagged("t", thing),
    fail: () => {
      throw new Error("thing failed");
    },
    later: () => Promise.resolve(thing),
    never: () => new Promise(() => {}),
    call: (ref: unknown, ...args: unknown[]) => send(ref, "hello", ...args),
    "call-only": (ref: unknown) => sendOnly(ref, "hi"),
  });
  directory.swiss.publish(thing, "thing");
  directory.swiss.publish(far((...args: unknown[]) => args.length), "fn");
  directory.swiss.publish({ name: "data", list: [1n, 2n] }, "data");
  return {
    name: "bob",
    location: { transport: "memory", designator: "bob", hints: {} },
    registry,
    directory,
    finalizer: new ManualFinalizer(),
  };
}

function describeInput(input: Uint8Array): string {
  try {
    const text = show(decode(input));
    return text.length > 400 ? `${text.slice(0, 400)}...` : text;
  } catch {
    const hex = [...input.slice(0, 200)]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    return `(undecodable, ${input.length} bytes) 0x${hex}`;
  }
}

/** Why bob may abort a message whose fields keep the rules (gen.clean). */
const PEER_FAULTS = [
  /^second op:start-session$/,
  // The generator does not know which of bob's exports are resolvers.
  /^resolver expects fulfill or break/,
];

const unhandled: unknown[] = [];
function onUnhandled(event: PromiseRejectionEvent): void {
  event.preventDefault();
  unhandled.push(event.reason);
}

/** Figures for the long run's summary. */
interface Tally {
  messages: number;
  aborted: number;
  reasons: Map<string, number>;
  shown: number;
}

/** One sequence against a fresh bob; throws with the seed on failure. */
async function sequence(seed: number, tally: Tally): Promise<void> {
  const gen = new HostileGenerator(seed);
  const p = await RawPeer.open({ makeBob });
  const h = p.h;
  const stand = h.sessions[0];
  const carol = makeVat("carol");
  const [c, bc] = h.connect(carol, p.bob);
  const log: string[] = [];
  let last: SyrupValue | undefined;

  const fail = (what: string, detail?: unknown): never => {
    const tail = log.slice(-12).join("\n  ");
    throw new Error(
      `hostile sequence CAPTP_FUZZ_SEED=${seed} CAPTP_FUZZ_SEQUENCES=1: ${what}` +
        `${detail === undefined ? "" : `: ${String(detail)}`}` +
        `${detail instanceof Error ? `\n${detail.stack}` : ""}\n  ${tail}`,
    );
  };

  /** Delivers everything queued; bob's writes to mallory are recorded. */
  const drain = async () => {
    for (let i = 0; i < 10_000; i++) {
      await h.ticks();
      const next = h.queue[0];
      if (next === undefined) {
        await h.ticks();
        if (h.queue.length === 0) return;
        continue;
      }
      if (next.to === stand) {
        h.queue.shift();
        if (next.bytes === undefined) {
          log.push("bob: (close)");
          continue;
        }
        last = decode(next.bytes);
        gen.observe(last);
        log.push(`bob: ${show(last).slice(0, 300)}`);
        continue;
      }
      try {
        h.pump();
      } catch (error) {
        fail("a session threw while pumping", error);
      }
    }
    fail("the harness did not settle");
  };

  await drain(); // carol's session opens
  assert.equal(c.state, "open");

  let aborted = false;
  for (let step = 0; step < MAX_MESSAGES; step++) {
    const input = gen.next(step);
    log.push(`mallory[${step}]: ${describeInput(input)}`);
    tally.messages++;
    try {
      p.b.handleMessage(input);
    } catch (error) {
      fail("handleMessage threw", error);
    }
    await drain();
    if (gen.rng.next() < 0.05) p.bob.finalizer.collectAll();
    if (gen.rng.next() < 0.03) h.clock.advance(400);
    await drain();
    if (p.b.state !== "open" && !aborted && isAbort(input)) {
      // The peer left: bob closes without a word (session_machine.ts,
      // invariant 2), so his last write is whatever came before.
      if (p.b.state !== "closed") fail(`bob is ${p.b.state} after op:abort`);
      if (log.at(-1) !== "bob: (close)") fail("bob wrote after op:abort");
      aborted = true;
      break;
    }
    checkAfterMessage(p.b, last, fail);
    if (p.b.state !== "open" && !aborted && gen.clean) {
      // Every field was one a well-behaved peer may send, given what bob
      // holds: only these reasons are the peer's fault.
      const reason = (last as SyrupRecord).fields[0] as string;
      if (!PEER_FAULTS.some((r) => r.test(reason))) {
        fail("bob aborted a message that keeps the rules", reason);
      }
    }
    for (const s of [bc, c]) {
      try {
        s.check();
      } catch (error) {
        fail("carol's session is inconsistent", error);
      }
    }
    if (unhandled.length > 0) fail("unhandled rejection", unhandled[0]);
    if (p.b.state !== "open") {
      if (!aborted) {
        aborted = true;
        tally.aborted++;
        const reason = (last as SyrupRecord).fields[0] as string;
        const key = `${gen.clean ? "clean " : ""}${
          reason.replace(/[0-9]+/g, "N").slice(0, 60)
        }`;
        tally.reasons.set(key, (tally.reasons.get(key) ?? 0) + 1);
        if (SHOW !== "" && key.includes(SHOW) && tally.shown++ < 3) {
          console.log(`seed ${seed}:\n  ${log.slice(-14).join("\n  ")}`);
        }
      }
      if (gen.rng.next() < 0.7) break; // now and then, a few more after it
    }
  }

  if (p.b.state === "open") p.b.abort("sequence over");
  await drain();
  if (bc.state !== "open") fail(`carol's session is ${bc.state}`);
  const answer = send(c.fetch(bytes("thing")), "echo", 7n);
  await drain();
  try {
    assert.deepEqual(await answer, [7n]);
    await finish(h, [p.mallory, p.bob, carol]);
    await new Promise((resolve) => setTimeout(resolve, 0));
  } catch (error) {
    fail("carol's call or finish() failed", error);
  }
  if (unhandled.length > 0) fail("unhandled rejection", unhandled[0]);
}

function isAbort(input: Uint8Array): boolean {
  try {
    const value = decode(input);
    return value instanceof SyrupRecord &&
      value.label === Symbol.for("op:abort") && value.fields.length === 1;
  } catch {
    return false;
  }
}

function checkAfterMessage(
  b: CapTPSession,
  last: SyrupValue | undefined,
  fail: (what: string, detail?: unknown) => never,
): void {
  if (b.state === "open") {
    try {
      b.check();
    } catch (error) {
      fail("bob's tables are inconsistent", error);
    }
    return;
  }
  if (b.state !== "aborting" && b.state !== "closed") {
    fail(`bob is ${b.state}`);
  }
  if (
    !(last instanceof SyrupRecord) ||
    last.label !== Symbol.for("op:abort")
  ) fail("bob left without op:abort as his last word");
  const reason = last.fields[0];
  if (typeof reason !== "string" || reason === "") {
    fail("bob's op:abort has no reason");
  }
  // Every bad input the engine knows of has a reason of its own.
  if (reason === "internal error") fail("bob aborted with an internal error");
}

Deno.test(`a hostile peer never crashes bob, corrupts a table or leaks an entry (${SEQUENCES} sequences)`, async () => {
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const tally: Tally = {
    messages: 0,
    aborted: 0,
    reasons: new Map(),
    shown: 0,
  };
  try {
    for (let i = 0; i < SEQUENCES; i++) await sequence(SEED + i, tally);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  assert.ok(tally.messages >= SEQUENCES);
  if (SEQUENCES > 200) {
    console.log(
      `${SEQUENCES} sequences from seed ${SEED}: ${tally.messages} messages, ` +
        `${tally.aborted} aborted`,
    );
    const top = [...tally.reasons].sort((a, b) => b[1] - a[1]).slice(0, 40);
    for (const [reason, n] of top) console.log(`  ${n}\t${reason}`);
  }
});
