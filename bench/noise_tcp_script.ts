/**
 * Costs of the `noise-tcp` netlayer (netlayers/noise_tcp.ts), each beside a
 * baseline measured in the same run:
 *
 * - the cookie gate's check of one stamped initiation
 *   (netlayers/_noise_tcp_handshake.ts CookieGate): mac1 only, and under
 *   load with a valid mac2 and with a cookie reply, beside one BLAKE2s of
 *   the same bytes;
 * - throughput of 1 KiB messages and a message round trip over loopback
 *   TCP, against tcp-testing-only in the same run, best of several
 *   interleaved rounds each: once with both ends in this process (one
 *   core does both sides' crypto), and once against a child process (this
 *   script with `--child`, serving both netlayers and answering pings),
 *   which is what two peers see: each side's crypto on its own core.
 *
 * Session establishment (handshake plus op:start-session, beside its
 * primitive floor and @chainsafe/libp2p-noise) is bench/session_script.ts.
 *
 * Prints JSON lines {name, value, unit, baseline, baseline_value, ratio};
 * loops are bounded and only loopback is used.
 */
import { parseArgs } from "node:util";
import { nativeCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { ManualClock } from "../protocol/manual_clock.ts";
import { Registry } from "../protocol/registry.ts";
import { encode } from "../protocol/syrup/encode.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../protocol/syrup/value.ts";
import {
  noiseIdentity,
  PeerInitiator,
} from "../netlayers/noise/peer_handshake.ts";
import { CookieInitiator } from "../netlayers/noise/cookie.ts";
import {
  CookieGate,
  type HandshakeContext,
} from "../netlayers/_noise_tcp_handshake.ts";
import {
  NOISE_TCP_PROLOGUE,
  NoiseTcpNetlayer,
} from "../netlayers/noise_tcp.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import type { Connection, Netlayer, OCapNPeer } from "../netlayers/types.ts";

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  options: { child: { type: "boolean", default: false } },
  allowPositionals: true,
});
/** Rows whose name lacks it are not printed (bench/run.ts passes it). */
const filter: string | undefined = positionals[0];

function emit(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
) {
  if (filter && !name.includes(filter)) return;
  console.log(JSON.stringify({
    name,
    value: Number(value.toPrecision(4)),
    unit,
    baseline,
    baseline_value: Number(baselineValue.toPrecision(4)),
    ratio: Number((value / baselineValue).toPrecision(3)),
  }));
}

function context(crypto: CryptoProvider): HandshakeContext {
  const clock = new ManualClock(0);
  return {
    crypto,
    clock,
    registry: new Registry({ clock }),
    identity: noiseIdentity(crypto, crypto.ed25519.generateKeyPair()),
    prologue: NOISE_TCP_PROLOGUE,
    timeoutMs: 5000,
    transport: {},
    handshaking: new Set(),
  };
}

/** Microseconds per call: the best of several interleaved batches. */
function timeEach(fns: Record<string, () => unknown>, n: number) {
  const best: Record<string, number> = {};
  for (let round = 0; round < 9; round++) {
    for (const [name, fn] of Object.entries(fns)) {
      const start = performance.now();
      for (let i = 0; i < n; i++) fn();
      const us = (performance.now() - start) * 1000 / n;
      best[name] = Math.min(best[name] ?? Infinity, us);
    }
  }
  return best;
}

function benchCookie() {
  const c = nativeCrypto;
  const responder = context(c);
  // Not under load: the threshold is out of reach however fast this loops
  // (a gate at its default 1000 initiations/s would be under load here).
  const gate = new CookieGate(responder, { loadThreshold: Infinity });
  const loaded = new CookieGate(responder, {});
  loaded.forceUnderLoad = true;
  const initiation = new PeerInitiator(c, {
    identity: noiseIdentity(c, c.ed25519.generateKeyPair()),
    remoteIdentity: responder.identity.ed25519.publicKey,
  }).start();
  const cookie = new CookieInitiator(c, {
    remoteStaticPublicKey: responder.identity.x25519.publicKey,
    clock: responder.clock,
  });
  const stamped = cookie.stamp(initiation);
  const verdict = loaded.check(stamped, "127.0.0.1");
  if (verdict.verdict !== "cookie" || !cookie.receiveReply(verdict.reply)) {
    throw new Error("no cookie reply under load");
  }
  const withMac2 = cookie.stamp(initiation);
  const checks: [string, () => unknown][] = [
    ["mac1 only, not under load", () => gate.check(stamped, "127.0.0.1")],
    ["under load, valid mac2", () => loaded.check(withMac2, "127.0.0.1")],
    ["under load, cookie reply", () => loaded.check(stamped, "127.0.0.1")],
  ];
  const us = timeEach({
    hash: () => c.hash("blake2s", stamped),
    ...Object.fromEntries(checks),
  }, 5000);
  for (const [name] of checks) {
    emit(
      `cookie gate check, ${name}`,
      us[name],
      "µs/message",
      "one BLAKE2s of the initiation",
      us.hash,
    );
  }
}

function accepting(n: Netlayer): Promise<Connection> {
  return new Promise((resolve) => n.onAccept(resolve));
}

async function pairOf(make: () => Netlayer) {
  const server = make();
  const client = make();
  const accepted = accepting(server);
  const dialled = await client.connect(server.location);
  return { server, client, dialled, answered: await accepted };
}

async function transfer(make: () => Netlayer, count: number) {
  const p = await pairOf(make);
  const payload = encode(
    record(
      "op:deliver",
      record("desc:export", 1n),
      [new Uint8Array(1000)],
      false,
      false,
    ),
  );
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  p.answered.attach({
    message: () => {
      if (++got === count) done();
    },
    error() {},
    close() {},
  });
  const start = performance.now();
  for (let i = 0; i < count; i++) p.dialled.send(payload);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([p.dialled.close(), p.answered.close()]);
  await Promise.all([p.server.close(), p.client.close()]);
  return (count * payload.length) / seconds / 1e6; // MB/s
}

async function roundTrip(make: () => Netlayer, count: number) {
  const p = await pairOf(make);
  const ping = encode(
    record("op:deliver", record("desc:export", 1n), ["ping"], false, false),
  );
  p.answered.attach({
    message: () => p.answered.send(ping),
    error() {},
    close() {},
  });
  let wake: (() => void) | undefined;
  p.dialled.attach({ message: () => wake?.(), error() {}, close() {} });
  const once = () =>
    new Promise<void>((r) => {
      wake = r;
      p.dialled.send(ping);
    });
  for (let i = 0; i < 100; i++) await once();
  const start = performance.now();
  for (let i = 0; i < count; i++) await once();
  const us = (performance.now() - start) * 1000 / count;
  await Promise.all([p.dialled.close(), p.answered.close()]);
  await Promise.all([p.server.close(), p.client.close()]);
  return us;
}

/** An op:deliver whose one argument is `size` bytes. */
function deliverOf(size: number): Uint8Array {
  return encode(
    record(
      "op:deliver",
      record("desc:export", 1n),
      [new Uint8Array(size)],
      false,
      false,
    ),
  );
}

const PAYLOAD = deliverOf(1000);
/**
 * Two-process throughput at more message sizes than 1 KiB: short
 * arguments are most of CapTP's traffic, and large ones show the cipher's
 * own speed. Each sends about 20 MB.
 */
const SIZES = [
  { label: "64 B", payload: deliverOf(64), count: 200_000 },
  { label: "1 KiB", payload: PAYLOAD, count: 20_000 },
  { label: "16 KiB", payload: deliverOf(16_000), count: 1_250 },
];
const PING = encode(
  record("op:deliver", record("desc:export", 1n), ["ping"], false, false),
);

function isPing(value: SyrupValue): boolean {
  if (!(value instanceof SyrupRecord)) return false;
  const args = value.fields[1];
  return Array.isArray(args) && args[0] === "ping";
}

/** The child: both netlayers listening, every ping answered, until stdin closes. */
async function serveChild(): Promise<void> {
  const layers = [NoiseTcpNetlayer.listen(), TcpTestingNetlayer.listen()];
  for (const layer of layers) {
    layer.onAccept((c) =>
      c.attach({
        message: (value) => {
          if (isPing(value)) c.send(PING);
        },
        error() {},
        close() {},
      })
    );
  }
  console.log(JSON.stringify(layers.map((l) => l.location)));
  for await (const _ of Deno.stdin.readable) { /* ignore input */ }
  await Promise.all(layers.map((l) => l.close()));
}

/** A connection to the child; `pong` resolves on the next ping reply. */
async function dialChild(make: () => Netlayer, peer: OCapNPeer) {
  const client = make();
  const dialled = await client.connect(peer);
  let wake: (() => void) | undefined;
  dialled.attach({ message: () => wake?.(), error() {}, close() {} });
  const ping = () =>
    new Promise<void>((r) => {
      wake = r;
      dialled.send(PING);
    });
  const close = async () => {
    await dialled.close();
    await client.close();
  };
  return { dialled, ping, close };
}

/** MB/s of `count` payloads, done when the ping after them is answered. */
async function transferRemote(
  make: () => Netlayer,
  peer: OCapNPeer,
  size: { payload: Uint8Array; count: number },
) {
  const c = await dialChild(make, peer);
  await c.ping();
  const start = performance.now();
  for (let i = 0; i < size.count; i++) c.dialled.send(size.payload);
  await c.ping();
  const seconds = (performance.now() - start) / 1000;
  await c.close();
  return (size.count * size.payload.length) / seconds / 1e6;
}

async function roundTripRemote(
  make: () => Netlayer,
  peer: OCapNPeer,
  count: number,
) {
  const c = await dialChild(make, peer);
  for (let i = 0; i < 100; i++) await c.ping();
  const start = performance.now();
  for (let i = 0; i < count; i++) await c.ping();
  const us = (performance.now() - start) * 1000 / count;
  await c.close();
  return us;
}

const ROUNDS = 5;

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Samples of one figure for both netlayers, interleaved round by round. */
class Pair {
  readonly plain: number[] = [];
  readonly noise: number[] = [];
  emit(name: string, unit: string) {
    emit(
      name,
      median(this.noise),
      unit,
      "tcp-testing-only",
      median(this.plain),
    );
  }
}

/** The child process, serving both netlayers; `stop` ends it. */
async function spawnChild() {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      new URL(import.meta.url).pathname,
      "--child",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("Child exited before printing its locations");
    first += value;
  }
  const [noise, plain] = JSON.parse(first) as OCapNPeer[];
  const stop = async () => {
    await child.stdin.close();
    await lines.cancel();
    await child.status;
  };
  return { noise, plain, stop };
}

async function main(): Promise<void> {
  benchCookie();
  const noise = () => NoiseTcpNetlayer.listen();
  const plain = () => TcpTestingNetlayer.listen();
  // Interleaved rounds, medians: the machine is shared and noisy.
  const oneMB = new Pair();
  const oneRtt = new Pair();
  for (let round = 0; round < ROUNDS; round++) {
    oneMB.plain.push(await transfer(plain, 20000));
    oneMB.noise.push(await transfer(noise, 20000));
    oneRtt.plain.push(await roundTrip(plain, 1000));
    oneRtt.noise.push(await roundTrip(noise, 1000));
  }
  const child = await spawnChild();
  const twoMB = SIZES.map(() => new Pair());
  const twoRtt = new Pair();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, size] of SIZES.entries()) {
      twoMB[i].plain.push(await transferRemote(plain, child.plain, size));
      twoMB[i].noise.push(await transferRemote(noise, child.noise, size));
    }
    twoRtt.plain.push(await roundTripRemote(plain, child.plain, 1000));
    twoRtt.noise.push(await roundTripRemote(noise, child.noise, 1000));
  }
  await child.stop();
  oneMB.emit("noise-tcp throughput, 1 KiB messages (one process)", "MB/s");
  oneRtt.emit("noise-tcp round trip (one process)", "µs");
  for (const [i, size] of SIZES.entries()) {
    twoMB[i].emit(
      `noise-tcp throughput, ${size.label} messages (two processes)`,
      "MB/s",
    );
  }
  twoRtt.emit("noise-tcp round trip (two processes)", "µs");
}

if (args.child) await serveChild();
else await main();
