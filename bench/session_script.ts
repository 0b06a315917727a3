/**
 * Issue 6, "full session establishment cost": both sides in one process
 * over an in-memory pipe, the `noise-tcp` netlayer's handshake code
 * (netlayers/_noise_tcp_handshake.ts: cookie macs, the xstate machine, the
 * registry entry, frames, key confirmation) followed by a CapTPSession on
 * each side (protocol/captp/session.ts, as runtime/node.ts makes them:
 * its lifecycle machine, a fresh Ed25519 session key, op:start-session
 * signed, sealed, opened, decoded and verified, the session ID derived,
 * the directory's admission, the engine) until both are open, then closed,
 * for IK and XX, per crypto backend. Beside it, in the
 * same run:
 *
 * - the primitive floor: every CryptoProvider call one session makes,
 *   recorded and replayed back to back with nothing else;
 * - @chainsafe/libp2p-noise handshaking XX in memory (bench/_libp2p_noise.ts).
 *
 * The floor is also set against libp2p-noise on a row of its own: a
 * session can be no faster than its own primitive calls, so that row is the
 * most any implementation making these calls could show against it.
 *
 * The measurements are interleaved round by round and the medians reported,
 * so a noisy neighbour slows all of them alike. Prints JSON lines {name,
 * value, unit, baseline, baseline_value, ratio}; the filter argument picks
 * rows by name.
 */
import { nativeCrypto, nobleCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import type { OCapNPeer } from "../protocol/locator.ts";
import { encodeBase32 } from "../protocol/base32.ts";
import * as keys from "../protocol/captp/keys.ts";
import { CapTPSession } from "../protocol/captp/session.ts";
import { SessionDirectory } from "../protocol/captp/directory.ts";
import { captpHost } from "../runtime/captp_host.ts";
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
  readonly location: OCapNPeer;
  readonly directory: SessionDirectory;
}

/** Clocks to close at the end: the netlayer's real one, timers and all. */
const clocks: SystemClock[] = [];

function side(crypto: CryptoProvider, port: string): Side {
  const clock = new SystemClock();
  clocks.push(clock);
  const ctx = handshakeContext(crypto, clock);
  return {
    ctx,
    location: {
      transport: "noise-tcp",
      designator: encodeBase32(ctx.identity.ed25519.publicKey),
      hints: { host: "127.0.0.1", port },
    },
    directory: new SessionDirectory({
      randomBytes: (n) => crypto.randomBytes(n),
    }),
  };
}

/**
 * One side's CapTPSession (protocol/captp/session.ts) over an established
 * Noise transport: what it writes is sealed and queued for the peer.
 */
function captp(
  s: Side,
  t: NoiseTransport,
  queue: [CapTPSession, Uint8Array][],
  peer: () => CapTPSession,
  dialed?: OCapNPeer,
): CapTPSession {
  return new CapTPSession({
    send: (bytes) => queue.push([peer(), t.seal(bytes)]),
    clock: s.ctx.clock,
    crypto: s.ctx.crypto,
    host: captpHost,
    registry: s.ctx.registry,
    directory: s.directory,
    location: s.location,
    dialed,
  });
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
  // Each side's op:start-session, sealed, opened, decoded and verified, in
  // the order a socket would deliver them.
  const queue: [CapTPSession, Uint8Array][] = [];
  const ds = captp(dialer, dt, queue, () => rs, responder.location);
  const rs = captp(responder, rt, queue, () => ds);
  ds.start();
  rs.start();
  for (let i = 0; i < queue.length; i++) {
    const [to, sealed] = queue[i];
    to.handleMessage((to === rs ? rt : dt).open(sealed));
  }
  if (ds.state !== "open" || rs.state !== "open") {
    throw new Error(`sessions ${ds.state} and ${rs.state}, not open`);
  }
  if (keys.compareBytes(ds.id!, rs.id!) !== 0) {
    throw new Error("session IDs differ");
  }
  ds.connectionClosed();
  rs.connectionClosed();
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
const againstLibp2p = {
  unit: "sessions/s",
  baseline: libp2pName,
  baselineValue: 1000 / libp2pMs,
};
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
  emit(k.name, 1000 / full, againstLibp2p);
  emit(`${k.floorName} of ${k.name}`, 1000 / floor, againstLibp2p);
}
for (const clock of clocks) clock.close();
