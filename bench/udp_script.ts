/**
 * The encrypted UDP netlayer's data plane between two processes over
 * loopback (README "UDP netlayer"), beside raw UDP measured in the same run.
 *
 * - "raw UDP": an unencrypted blaster sends 1200-byte datagrams for a
 *   bounded time; the child counts what its DatagramSocket (socket.ts)
 *   takes in per second. The kernel's receive buffer holds only about 90
 *   such datagrams, so the blaster overruns it: this is the receive rate,
 *   not the send rate.
 * - "UDP channel goodput": 1 MiB message objects from the parent's
 *   UdpChannel to the child's, over DatagramSockets, acks flowing back;
 *   application bytes per second until the last message is acked. The
 *   keys and session hashcodes are fixed by this script because the
 *   handshake is not wired in yet ("fixed keys" in the row name).
 * - the same with 5% of datagrams dropped at each sender (deterministic
 *   PRNG), in both directions, against the lossless row.
 *
 * The parent spawns itself with `--child`; they talk through JSON lines on
 * the child's stdin and stdout. Every loop is bounded and the child exits
 * when its stdin closes. The only argument is an optional filter on row
 * names. Targets (issue 7): goodput at least 40 MB/s; with 5% loss at least
 * 70% of the lossless goodput. Each figure is the median of `REPS`
 * interleaved runs after one warm-up transfer, since the machine is shared.
 *
 * Tuning knobs, for experiments only: UDP_BENCH_OPTIONS (JSON, a partial
 * UdpDataOptions for both channels), UDP_BENCH_CHILD_FLAGS (extra deno
 * flags for the child, e.g. "--cpu-prof"), UDP_BENCH_VERBOSE=1 (per-run
 * sender and socket counters on stderr).
 */
import { parseArgs } from "node:util";
import { nativeCrypto } from "../crypto/native.ts";
import { Registry } from "../protocol/registry.ts";
import { SystemClock } from "../runtime/system_clock.ts";
import type { UdpAddress } from "../netlayers/udp/address.ts";
import { UdpChannel } from "../netlayers/udp/channel.ts";
import {
  type DatagramSocket,
  openDatagramSocket,
} from "../netlayers/udp/socket.ts";
import type { BenchRow } from "./_measure.ts";

const DATAGRAM = 1200;
const BLAST_MS = 500;
const REPS = 3;
const MESSAGE = 1 << 20;
const MESSAGES = 32;
const GIVE_UP_MS = 30_000;
const VERBOSE = Deno.env.get("UDP_BENCH_VERBOSE") === "1";
const OPTIONS = JSON.parse(Deno.env.get("UDP_BENCH_OPTIONS") ?? "{}");
const KEY_A = new Uint8Array(32).fill(0xa1);
const KEY_B = new Uint8Array(32).fill(0xb2);

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { child: { type: "boolean", default: false } },
  allowPositionals: true,
});

/** xorshift32: the same drops every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

interface Side {
  clock: SystemClock;
  registry: Registry;
  channel: UdpChannel;
  dropped(): number;
  close(): void;
}

/** One end of a channel whose datagrams leave through `socket`. */
function channelSide(
  socket: DatagramSocket,
  options: {
    peer: UdpAddress;
    outbound: boolean; // parent to child direction is "outbound"
    run: number;
    loss: number;
    onMessage?: (m: Uint8Array) => void;
  },
): Side {
  const clock = new SystemClock();
  const registry = new Registry({ clock });
  const random = prng(
    0x9e3779b9 ^ (options.run * 2 + Number(options.outbound)),
  );
  let dropped = 0;
  const parentCode = options.run * 2 + 1;
  const childCode = options.run * 2 + 2;
  const channel = new UdpChannel({
    clock,
    crypto: nativeCrypto,
    registry,
    localSession: options.outbound ? parentCode : childCode,
    remoteSession: options.outbound ? childCode : parentCode,
    sendKey: (options.outbound ? KEY_A : KEY_B).slice(),
    receiveKey: (options.outbound ? KEY_B : KEY_A).slice(),
    sendDatagram: (bytes) => {
      if (options.loss > 0 && random() < options.loss) return void dropped++;
      socket.send(bytes, options.peer);
    },
    onMessage: options.onMessage ?? (() => {}),
    options: OPTIONS,
  });
  return {
    clock,
    registry,
    channel,
    dropped: () => dropped,
    close() {
      channel.close();
      registry.close();
      clock.close();
    },
  };
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let at;
    while ((at = text.indexOf("\n")) >= 0) {
      yield JSON.parse(text.slice(0, at));
      text = text.slice(at + 1);
    }
  }
}

// ---- Child: the receiving end ----

async function serve(): Promise<void> {
  let side: Side | undefined;
  let raw = { count: 0, first: 0, last: 0 };
  let delivered = 0;
  const socket = openDatagramSocket({
    onDatagram(bytes) {
      if (side !== undefined) return side.channel.receive(bytes);
      const now = performance.now();
      if (raw.count++ === 0) raw.first = now;
      raw.last = now;
    },
    onDrain: () => side?.channel.flush(),
  });
  const say = (x: unknown) => console.log(JSON.stringify(x));
  say({ port: socket.address.port });
  for await (const cmd of lines(Deno.stdin.readable)) {
    if (cmd.cmd === "raw") {
      raw = { count: 0, first: 0, last: 0 };
      say({ ok: true });
    } else if (cmd.cmd === "raw-end") {
      say({ received: raw.count, seconds: (raw.last - raw.first) / 1000 });
    } else if (cmd.cmd === "channel") {
      delivered = 0;
      side = channelSide(socket, {
        peer: cmd.peer,
        outbound: false,
        run: cmd.run,
        loss: cmd.loss,
        onMessage: (m) => void (delivered += m.length),
      });
      say({ ok: true });
    } else if (cmd.cmd === "channel-end") {
      const stats = side!.channel.stats();
      side!.close();
      side = undefined;
      say({ delivered, acksSent: stats.acksSent, received: stats.received });
    }
  }
  side?.close();
  await socket.close();
}

// ---- Parent: the measurements ----

function row(
  name: string,
  value: number,
  unit: string,
  baseline?: [string, number],
): BenchRow {
  return {
    name,
    value: Number(value.toPrecision(4)),
    unit,
    baseline: baseline?.[0] ?? null,
    baseline_value: baseline ? Number(baseline[1].toPrecision(4)) : null,
    ratio: baseline ? Number((value / baseline[1]).toPrecision(3)) : null,
  };
}

function median(samples: number[]): number {
  const s = samples.toSorted((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Sends 1200-byte datagrams for BLAST_MS with a bounded number in flight. */
async function blast(to: UdpAddress): Promise<number> {
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const addr = { transport: "udp" as const, ...to };
  const bytes = new Uint8Array(DATAGRAM);
  let sent = 0;
  let pending = 0;
  let wake: (() => void) | undefined;
  const settled = () => {
    pending--;
    if (wake !== undefined && pending < 128) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const t0 = performance.now();
  while (performance.now() - t0 < BLAST_MS) {
    for (let i = 0; i < 64; i++, sent++, pending++) {
      conn.send(bytes, addr).then(settled, settled);
    }
    if (pending >= 256) await new Promise<void>((r) => wake = r);
  }
  while (pending > 0) await new Promise<void>((r) => wake = r);
  conn.close();
  return sent;
}

async function measure(filter: string | undefined): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      ...(Deno.env.get("UDP_BENCH_CHILD_FLAGS")?.split(" ") ?? []),
      import.meta.filename!,
      "--child",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const replies = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const ask = async (cmd: unknown) => {
    await writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    const { value, done } = await replies.next();
    if (done) throw new Error("Child exited early");
    return value;
  };
  const { port } = (await replies.next()).value;
  const childAddress = { hostname: "127.0.0.1", port };
  let side: Side | undefined;
  const socket = openDatagramSocket({
    onDatagram: (bytes) => side?.channel.receive(bytes),
    onDrain: () => side?.channel.flush(),
  });
  const names = {
    raw: `raw UDP, ${DATAGRAM}-byte datagrams received`,
    clean: "UDP channel goodput, 1 MiB messages, lossless (fixed keys)",
    lossy: "UDP channel goodput, 1 MiB messages, 5% loss (fixed keys)",
  };
  const wanted = (name: string) => !filter || name.includes(filter);
  let run = 0;
  const goodput = async (loss: number, messages = MESSAGES) => {
    run++;
    await ask({ cmd: "channel", peer: socket.address, run, loss });
    side = channelSide(socket, {
      peer: childAddress,
      outbound: true,
      run,
      loss,
    });
    const message = nativeCrypto.randomBytes(MESSAGE);
    const t0 = performance.now();
    const sends = [];
    for (let i = 0; i < messages; i++) sends.push(side.channel.send(message));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        side!.channel.close("bench gave up");
        resolve();
      }, GIVE_UP_MS);
    });
    await Promise.race([Promise.allSettled(sends), giveUp]);
    clearTimeout(timer);
    const seconds = (performance.now() - t0) / 1000;
    const stats = side.channel.stats();
    side.close();
    side = undefined;
    const end = await ask({ cmd: "channel-end" });
    if (end.delivered !== MESSAGE * messages) {
      console.error(`Delivered ${end.delivered} of ${MESSAGE * messages}`);
    }
    if (VERBOSE) {
      console.error(JSON.stringify({
        loss,
        seconds,
        srtt: stats.srtt,
        sender: stats.sender,
        socket: socket.stats(),
        child: end,
      }));
    }
    return end.delivered / seconds / 1e6;
  };
  const rawRates: number[] = [];
  const cleanRates: number[] = [];
  const lossyRates: number[] = [];
  const needRaw = wanted(names.raw) || wanted(names.clean);
  const needClean = wanted(names.clean) || wanted(names.lossy);
  try {
    if (needClean) await goodput(0, 8); // warms up the JIT on both sides
    for (let rep = 0; rep < REPS; rep++) {
      if (needRaw) {
        await ask({ cmd: "raw" });
        await blast(childAddress);
        const got = await ask({ cmd: "raw-end" });
        rawRates.push(got.received / got.seconds);
      }
      if (needClean) cleanRates.push(await goodput(0));
      if (wanted(names.lossy)) lossyRates.push(await goodput(0.05));
    }
  } finally {
    await writer.close();
    await child.status;
    await socket.close();
  }
  const rawMB = median(rawRates) * DATAGRAM / 1e6;
  const clean = median(cleanRates);
  const rows: BenchRow[] = [];
  if (wanted(names.raw)) {
    rows.push(row(names.raw, median(rawRates), "datagrams/s"));
    rows.push(row(`${names.raw} (MB/s)`, rawMB, "MB/s"));
  }
  if (wanted(names.clean)) {
    rows.push(row(names.clean, clean, "MB/s", [`${names.raw} (MB/s)`, rawMB]));
  }
  if (wanted(names.lossy)) {
    rows.push(
      row(names.lossy, median(lossyRates), "MB/s", [names.clean, clean]),
    );
  }
  for (const r of rows) console.log(JSON.stringify(r));
}

if (values.child) await serve();
else await measure(positionals[0]);
