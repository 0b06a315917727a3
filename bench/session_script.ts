/**
 * Issue 6, "full session establishment cost": both sides in one process
 * over an in-memory pipe, the `noise-tcp` netlayer's handshake code
 * (netlayers/_noise_tcp_handshake.ts: cookie macs, the xstate machine, the
 * registry entry, frames, key confirmation) followed by the op:start-session
 * exchange each way (CapTP draft "op:start-session": a fresh Ed25519 session
 * key, a signature over our location, sealed, opened, decoded, verified, the
 * session ID derived), for IK and XX, per crypto backend. Beside it, in the
 * same run:
 *
 * - the primitive floor: every CryptoProvider call one session makes,
 *   recorded and replayed back to back with nothing else;
 * - @chainsafe/libp2p-noise handshaking XX in memory (bench/_libp2p_noise.ts).
 *
 * The measurements are interleaved round by round and the medians reported,
 * so a noisy neighbour slows all of them alike. Prints JSON lines {name,
 * value, unit, baseline, baseline_value, ratio}; the filter argument picks
 * rows by name.
 */
import { nativeCrypto, nobleCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { encode } from "../protocol/syrup/encode.ts";
import { decode } from "../protocol/syrup/decode.ts";
import { peerToSyrup } from "../protocol/locator.ts";
import * as keys from "../protocol/captp/keys.ts";
import { opStartSession, readOperation } from "../protocol/captp/operations.ts";
import type { NoiseTransport } from "../netlayers/noise/transport.ts";
import {
  answerHandshake,
  CookieGate,
  dialHandshake,
  type HandshakeContext,
} from "../netlayers/_noise_tcp_handshake.ts";
import { pipe } from "../netlayers/_byte_pipe.ts";
import { SystemClock } from "../runtime/system_clock.ts";
import { libp2pNoisePair } from "./_libp2p_noise.ts";
import { recording } from "./_recording.ts";
import { handshakeContext } from "./_handshake_context.ts";

const filter = Deno.args[0];
const ROUNDS = 7;
const ROUND_MS = 150;

function emit(
  name: string,
  value: number,
  options: { unit: string; baseline: string; baselineValue: number },
) {
  console.log(JSON.stringify({
    name,
    value: Number(value.toPrecision(4)),
    unit: options.unit,
    baseline: options.baseline,
    baseline_value: Number(options.baselineValue.toPrecision(4)),
    ratio: Number((value / options.baselineValue).toPrecision(3)),
  }));
}

interface Side {
  readonly ctx: HandshakeContext;
  readonly location: ReturnType<typeof peerToSyrup>;
}

/** Clocks to close at the end: the netlayer's real one, timers and all. */
const clocks: SystemClock[] = [];

function side(crypto: CryptoProvider, port: string): Side {
  const clock = new SystemClock();
  clocks.push(clock);
  return {
    ctx: handshakeContext(crypto, clock),
    location: peerToSyrup({
      transport: "noise-tcp",
      designator: "a".repeat(52),
      hints: { host: "127.0.0.1", port },
    }),
  };
}

/** Our op:start-session, sealed; the session key pair stays with us. */
function hello(s: Side, t: NoiseTransport) {
  const made = keys.makeSessionKeys(s.ctx.crypto, s.location);
  const op = opStartSession("1.0", {
    pubkey: made.pubkey,
    location: s.location,
    signature: made.signature,
  });
  return { sealed: t.seal(encode(op)), publicKey: made.keys.publicKey };
}

/** The peer's op:start-session: opened, decoded, verified; the session ID. */
function accept(
  s: Side,
  t: NoiseTransport,
  sealed: Uint8Array,
  mine: Uint8Array,
) {
  const op = readOperation(decode(t.open(sealed)));
  if (op.type !== "op:start-session") throw new Error("not a start-session");
  const key = keys.publicKeyFromSyrup(op.sessionPubkey);
  const signature = keys.signatureFromSyrup(op.acceptableLocationSig);
  const location = op.acceptableLocation;
  if (!keys.verifyLocation(s.ctx.crypto, key, { location, signature })) {
    throw new Error("location signature does not verify");
  }
  const c = s.ctx.crypto;
  return keys.sessionId(c, [keys.publicId(c, mine), keys.publicId(c, key)]);
}

async function establish(
  dialer: Side,
  responder: Side,
  options: { gate: CookieGate; ik: boolean },
) {
  const [a, b] = pipe();
  const [d, r] = await Promise.all([
    dialHandshake(dialer.ctx, {
      connect: () => Promise.resolve(a),
      remoteIdentity: options.ik
        ? responder.ctx.identity.ed25519.publicKey
        : undefined,
    }),
    answerHandshake(responder.ctx, b, { gate: options.gate, address: "mem" }),
  ]);
  const dt = d.established.transport;
  const rt = r!.established.transport;
  const dh = hello(dialer, dt);
  const rh = hello(responder, rt);
  const id1 = accept(responder, rt, dh.sealed, rh.publicKey);
  const id2 = accept(dialer, dt, rh.sealed, dh.publicKey);
  if (keys.compareBytes(id1, id2) !== 0) throw new Error("session IDs differ");
  dt.close();
  rt.close();
  a.close();
}

/** Milliseconds per iteration over about `ms` of repeated `body`. */
async function timeFor(ms: number, body: () => Promise<void> | void) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 5; i++) await body();
    n += 5;
  }
  return (performance.now() - start) / n;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Case {
  readonly name: string;
  readonly floorName: string;
  readonly full: () => Promise<void>;
  readonly floor: () => void;
  readonly samples: { full: number[]; floor: number[] };
}

async function sessionCase(c: CryptoProvider, ik: boolean): Promise<Case> {
  const dialer = side(c, "4001");
  const responder = side(c, "4002");
  const gate = new CookieGate(responder.ctx, { loadThreshold: Infinity });
  const log: (() => unknown)[] = [];
  const rec = (s: Side) => ({
    ...s,
    ctx: { ...s.ctx, crypto: recording(c, log) },
  });
  // The floor records a repeat session, as the timed ones are: the first
  // one between two identities also fills their static-static caches
  // (netlayers/noise/static_static.ts), which IK's later sessions skip.
  await establish(dialer, responder, { gate, ik });
  await establish(rec(dialer), rec(responder), { gate, ik });
  const pattern = ik ? "IK" : "XX";
  return {
    name: `noise-tcp session ${pattern} + op:start-session (${c.name})`,
    floorName: `primitive floor (${c.name}, ${log.length} calls)`,
    full: () => establish(dialer, responder, { gate, ik }),
    floor: () => {
      for (const call of log) call();
    },
    samples: { full: [], floor: [] },
  };
}

const cases: Case[] = [];
for (const c of [nativeCrypto, nobleCrypto]) {
  for (const ik of [true, false]) {
    const made = await sessionCase(c, ik);
    if (!filter || made.name.includes(filter)) cases.push(made);
  }
}
const libp2pName = "@chainsafe/libp2p-noise XX handshake (in memory)";
const libp2p = cases.length > 0 || !filter || libp2pName.includes(filter)
  ? await libp2pNoisePair()
  : undefined;
const libp2pSamples: number[] = [];

for (let round = 0; round < ROUNDS + 1; round++) {
  const ms = round === 0 ? 60 : ROUND_MS; // round 0 warms up, unrecorded
  for (const k of cases) {
    const full = await timeFor(ms, k.full);
    const floor = await timeFor(ms, k.floor);
    if (round > 0) k.samples.full.push(full), k.samples.floor.push(floor);
  }
  if (libp2p) {
    const t = await timeFor(ms, libp2p.handshake);
    if (round > 0) libp2pSamples.push(t);
  }
}

const libp2pMs = libp2p ? median(libp2pSamples) : NaN;
for (const k of cases) {
  const full = median(k.samples.full);
  const floor = median(k.samples.floor);
  emit(k.name, full * 1000, {
    unit: "µs/session",
    baseline: k.floorName,
    baselineValue: floor * 1000,
  });
  emit(k.name, 1000 / full, {
    unit: "sessions/s",
    baseline: k.floorName,
    baselineValue: 1000 / floor,
  });
  emit(k.name, 1000 / full, {
    unit: "sessions/s",
    baseline: libp2pName,
    baselineValue: 1000 / libp2pMs,
  });
}
for (const clock of clocks) clock.close();
