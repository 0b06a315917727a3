/**
 * Costs of the `noise-tcp` netlayer (netlayers/noise_tcp.ts), each beside a
 * baseline measured in the same run: throughput of 1 KiB messages and a
 * message round trip over loopback TCP, against tcp-testing-only in the
 * same run, best of several interleaved rounds each: once with both ends in
 * this process (one core does both sides' crypto), and once against a child
 * process (this script with `--child`, serving both netlayers and answering
 * pings), which is what two peers see: each side's crypto on its own core.
 *
 * The cookie gate's check of one stamped initiation is
 * bench/noise_tcp_cookie_script.ts. Session establishment (handshake plus
 * op:start-session, beside its primitive floor and @chainsafe/libp2p-noise)
 * is bench/session_script.ts.
 *
 * Prints JSON lines {name, value, unit, baseline, baseline_value, ratio};
 * loops are bounded and only loopback is used.
 */
import { parseArgs } from "node:util";
import { encode } from "../protocol/syrup/encode.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../protocol/syrup/value.ts";
import { NoiseTcpNetlayer } from "../netlayers/noise_tcp.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import type { Connection, Netlayer, OCapNPeer } from "../netlayers/types.ts";
import {
  benchRow,
  jsonLines,
  median,
  printRow,
  spawnChild,
} from "./_measure.ts";

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  options: { child: { type: "boolean", default: false } },
  allowPositionals: true,
});
/** Rows whose name lacks it are not printed (bench/run.ts passes it). */
const filter: string | undefined = positionals[0];

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
/**
 * Pings before a round trip is timed. V8 optimizes a function only after
 * thousands of calls (bench/captp_script.ts, WARMUP), and these are meant
 * as steady-state figures for both netlayers.
 */
const RT_WARMUP = 5000;
const PING = encode(
  record("op:deliver", record("desc:export", 1n), ["ping"], false, false),
);

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

/** Attaches to `dialled`; the returned ping() resolves on the next reply. */
function pinger(dialled: Connection): () => Promise<void> {
  let wake: (() => void) | undefined;
  dialled.attach({ message: () => wake?.(), error() {}, close() {} });
  return () =>
    new Promise<void>((r) => {
      wake = r;
      dialled.send(PING);
    });
}

async function transfer(make: () => Netlayer, count: number) {
  const p = await pairOf(make);
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
  for (let i = 0; i < count; i++) p.dialled.send(PAYLOAD);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([p.dialled.close(), p.answered.close()]);
  await Promise.all([p.server.close(), p.client.close()]);
  return (count * PAYLOAD.length) / seconds / 1e6; // MB/s
}

async function roundTrip(make: () => Netlayer, count: number) {
  const p = await pairOf(make);
  p.answered.attach({
    message: () => p.answered.send(PING),
    error() {},
    close() {},
  });
  const once = pinger(p.dialled);
  for (let i = 0; i < RT_WARMUP; i++) await once();
  const start = performance.now();
  for (let i = 0; i < count; i++) await once();
  const us = (performance.now() - start) * 1000 / count;
  await Promise.all([p.dialled.close(), p.answered.close()]);
  await Promise.all([p.server.close(), p.client.close()]);
  return us;
}

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

/** A connection to the child; `ping` resolves on the next ping reply. */
async function dialChild(make: () => Netlayer, peer: OCapNPeer) {
  const client = make();
  const dialled = await client.connect(peer);
  const ping = pinger(dialled);
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
  for (let i = 0; i < RT_WARMUP; i++) await c.ping();
  const start = performance.now();
  for (let i = 0; i < count; i++) await c.ping();
  const us = (performance.now() - start) * 1000 / count;
  await c.close();
  return us;
}

const ROUNDS = 5;

/** Samples of one figure for both netlayers, interleaved round by round. */
class Pair {
  readonly plain: number[] = [];
  readonly noise: number[] = [];
  emit(name: string, unit: string) {
    printRow(
      benchRow(name, median(this.noise), unit, [
        "tcp-testing-only",
        median(this.plain),
      ]),
      filter,
    );
  }
}

/** The child process, serving both netlayers; `stop` ends it. */
async function spawnServer() {
  const child = spawnChild(new URL(import.meta.url).pathname);
  const lines = jsonLines(child.stdout);
  const first = await lines.next();
  if (first.done) throw new Error("Child exited before printing its locations");
  const [noise, plain] = first.value as OCapNPeer[];
  const stop = async () => {
    await child.stdin.close();
    await lines.return(undefined);
    await child.status;
  };
  return { noise, plain, stop };
}

async function main(): Promise<void> {
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
  const child = await spawnServer();
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
