/**
 * The checking half of the noise-tcp hostile-peer fuzzer
 * (noise_tcp_hostile_test.ts, noise_tcp_hostile_listener_test.ts): a
 * sequence's seed and transcript, a watchdog that names the seed of a hang,
 * the clock driven past a stall, a socket that holds writes back so frames
 * coalesce across steps, and the transport-phase referee (watchTransport):
 * what the victim delivers, what it sends back, and how it closes.
 */
import assert from "node:assert/strict";
import type { Connection } from "../../netlayers/types.ts";
import { ConnectionClosedError } from "../../netlayers/errors.ts";
import { NoiseError } from "../../netlayers/noise/errors.ts";
import {
  FRAME_RECORD,
  type FrameReader,
} from "../../netlayers/_noise_tcp_wire.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { SyrupStreamDecoder } from "../../protocol/syrup/stream.ts";
import type { SyrupValue } from "../../protocol/syrup/value.ts";
import { Inbox } from "./_inbox.ts";
import {
  codesAfter,
  concat,
  isClean,
  type Link,
  playStep,
  type Prng,
  type TransportStep,
  transportSteps,
  writeSplit,
} from "./_hostile_noise_tcp.ts";
import { envNumber } from "../_env.ts";

/** The victim's handshake timeout, and how far a sequence advances the clock to reach it. */
export const TIMEOUT_MS = 5000;

/** The `code` of a close reason or handshake failure, or the built-in's name. */
export function codeOf(error: unknown): string {
  if (error instanceof NoiseError) return error.code;
  if (error instanceof ConnectionClosedError) return error.code;
  if (error instanceof SyntaxError) return "SyntaxError";
  return `untyped ${(error as Error)?.name}: ${(error as Error)?.message}`;
}

/** Half-closes `socket`; one already closed or reset needs nothing more. */
export async function halfClose(
  socket: { closeWrite(): Promise<void> },
): Promise<void> {
  try {
    await socket.closeWrite();
  } catch { /* already closed */ }
}

/** Holds writes back at random, so frames of several steps share a write. */
export class CorkedSocket {
  readonly #rng: Prng;
  readonly #socket: Deno.Conn;
  #held: Uint8Array[] = [];

  constructor(rng: Prng, socket: Deno.Conn) {
    this.#rng = rng;
    this.#socket = socket;
  }

  async write(bytes: Uint8Array): Promise<number> {
    this.#held.push(bytes.slice());
    if (this.#rng.chance(0.5)) await this.flush();
    return bytes.length;
  }

  async flush(): Promise<void> {
    if (this.#held.length === 0) return;
    const bytes = concat(this.#held);
    this.#held = [];
    try {
      await writeSplit(this.#rng, this.#socket, bytes);
    } catch { /* the victim has already reset the connection */ }
  }

  async closeWrite(): Promise<void> {
    await this.flush();
    await halfClose(this.#socket);
  }
}

/** How often each (move, outcome) pair was seen in this run. */
const tally = new Map<string, number>();

/** A sequence's seed, its transcript, and its checks. */
export class Fuzzing {
  readonly seed: number;
  readonly transcript: string[];
  readonly #prefix: string;

  constructor(seed: number, transcript: string[] = [], prefix = "") {
    this.seed = seed;
    this.transcript = transcript;
    this.#prefix = prefix;
  }

  /** The same sequence, its lines marked: for one of several peers at once. */
  sub(prefix: string): Fuzzing {
    return new Fuzzing(this.seed, this.transcript, `${prefix} `);
  }

  log(line: string): void {
    this.transcript.push(this.#prefix + line);
  }

  /** Counts an outcome for the run's summary (NOISE_TCP_FUZZ_SUMMARY=1). */
  outcome(label: string): void {
    tally.set(label, (tally.get(label) ?? 0) + 1);
  }

  check(ok: boolean, what: string): void {
    assert.ok(
      ok,
      `seed ${this.seed}: ${what}\n  transcript:\n    ${
        this.transcript.join("\n    ")
      }`,
    );
  }

  /** `work`, or a failure naming the seed if it never settles (a hang is a bug). */
  async guard<T>(work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("stalled for 20 s")), 20_000);
    });
    try {
      return await Promise.race([work, stalled]);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      this.check(false, `${codeOf(error)}\n  ${(error as Error)?.stack}`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Advances `clock` by `ms` until `settled` settles: a stall meets its timeout. */
  async advanceUntil(
    clock: { advance(ms: number): number },
    ms: number,
    settled: Promise<unknown>,
  ): Promise<void> {
    let done = false;
    settled.finally(() => done = true);
    for (let i = 0; !done; i++) {
      this.check(i < 500, "a stall never timed out");
      clock.advance(ms);
      // Let the victim's socket reads and closes run.
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Runs `sequences` seeds from `seed`, failing on any unhandled rejection. */
export async function runSequences(
  seed: number,
  sequences: number,
  run: (seed: number) => Promise<void>,
): Promise<void> {
  const uncaught: unknown[] = [];
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    uncaught.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  try {
    for (let i = 0; i < sequences; i++) {
      await run(seed + i);
      assert.equal(uncaught.length, 0, `seed ${seed + i}: ${uncaught[0]}`);
    }
  } finally {
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
  if (envNumber("NOISE_TCP_FUZZ_SUMMARY", 0)) {
    for (const [label, n] of [...tally].sort()) console.log(`${n}\t${label}`);
  }
  tally.clear();
}

/** The victim's side of a link, and the hostile side's reader of it. */
export interface Victim {
  /** Resolves once the victim has the connection (a listener accepts late). */
  victim: Promise<Connection>;
  link: Link & { socket: CorkedSocket };
  reader: FrameReader;
}

/**
 * Plays up to six transport steps on the link while the victim sends a
 * few messages of its own, and checks the victim: it delivers exactly
 * `initial` and the clean messages, in order, then closes with a code the
 * hostile step allows, or (all clean) with the peer's close; every record
 * it sent opens, in order, and (all clean) all of them arrived.
 */
export async function watchTransport(
  rng: Prng,
  f: Fuzzing,
  v: Victim,
  initial: SyrupValue[],
): Promise<void> {
  // The victim talks too: at once, and between steps once it has the connection.
  const talk = Array.from({ length: rng.int(3) }, (_, i) => `reply ${i}`);
  let said = 0;
  let talking: Connection | undefined;
  const say = () => {
    while (talking && said < talk.length) talking.send(encode(talk[said++]));
  };
  v.victim.then((c) => {
    talking = c;
    say();
  });
  const heard = listen(v);
  const expected = [...initial];
  let hostile: TransportStep | undefined;
  for (const step of transportSteps(rng, 6)) {
    f.log(`step ${JSON.stringify(step, (_k, x) => describe(x))}`);
    if (step.kind === "time") {
      // Not while the victim's handshake is in flight: it would time out.
      await v.link.socket.flush();
      await v.victim;
    }
    const values = await playStep(rng, v.link, step);
    if (isClean(step)) expected.push(...values);
    else hostile = step;
    if (rng.chance(0.3)) talk.push(`reply ${talk.length}`);
    say();
  }
  await v.link.socket.flush();
  const victim = await v.victim;
  const inbox = new Inbox(victim);
  // An error emitted before the inbox attached is replayed as it attaches.
  let errors = 0;
  inbox.error.then(() => errors++);
  if (hostile || rng.chance(0.7)) {
    await v.link.socket.closeWrite();
  } else {
    f.log("victim closes");
    // Input that arrives once closing is dropped: wait for it first.
    await inbox.take(expected.length);
    const closing = victim.close();
    await heard;
    await v.link.socket.closeWrite();
    await closing;
  }
  const reason = await inbox.closeReason;
  const { values, problem } = await heard;
  f.check(problem === undefined, `the victim's output: ${problem}`);
  const code = reason === undefined ? "none" : codeOf(reason);
  f.outcome(`transport ${hostile?.kind ?? "clean"}: ${code}`);
  const allowed = hostile
    ? codesAfter(hostile)
    : ["none", "OCAPN_NETLAYER_CLOSED"];
  f.check(
    allowed.includes(code),
    `closed with "${code}" (${reason?.message}), expected ${allowed}`,
  );
  if (code === "SyntaxError") {
    f.check(errors === 1, "a decode error was not reported");
  }
  f.check(
    hostile ? values.length <= talk.length : values.length === talk.length,
    `heard ${values.length} of the victim's ${talk.length} messages`,
  );
  try {
    assert.deepEqual(values, talk.slice(0, values.length));
    assert.deepEqual(inbox.messages, expected);
  } catch (error) {
    f.check(false, `delivered ${(error as Error).message}`);
  }
}

/** Reads the victim's records to the end: every one must open and decode. */
async function listen(
  v: Victim,
): Promise<{ values: SyrupValue[]; problem?: string }> {
  const values: SyrupValue[] = [];
  const decoder = new SyrupStreamDecoder({
    framing: "bare",
    maxLength: 1 << 24,
    maxDepth: 64,
  });
  for (;;) {
    let frame;
    try {
      frame = await v.reader.next();
    } catch {
      return { values }; // reset: what arrived stands
    }
    if (frame === null) return { values };
    if (frame.type !== FRAME_RECORD) {
      return { values, problem: `a frame of type ${frame.type}` };
    }
    try {
      const plaintext = v.link.transport.open(frame.body);
      const result = decoder.push(plaintext, plaintext.length);
      values.push(...result.values);
      if (result.error) return { values, problem: result.error.message };
    } catch (error) {
      return { values, problem: `a record that fails: ${codeOf(error)}` };
    }
  }
}

function describe(x: unknown): unknown {
  if (typeof x === "bigint") return `${x}n`;
  if (x instanceof Uint8Array) return `<${x.length} bytes>`;
  if (x instanceof Map) return Object.fromEntries(x);
  if (typeof x === "string" && x.length > 40) return `<${x.length} chars>`;
  return x;
}
