/**
 * The `noise-udp` netlayer (netlayers/noise_udp.ts, README "UDP netlayer")
 * between two processes over loopback, beside baselines measured in the
 * same run.
 *
 * - "raw UDP": an unencrypted blaster sends 1200-byte datagrams for a
 *   bounded time; the child counts what its DatagramSocket (socket.ts)
 *   takes in per second. The kernel's receive buffer holds only about 90
 *   such datagrams, so the blaster overruns it: this is the receive rate,
 *   not the send rate.
 * - "noise-udp goodput": the parent dials the child's NoiseUdpNetlayer
 *   through its locator (a real Noise IK handshake, not timed), then sends
 *   1 MiB message objects, each the Syrup encoding of a 1 MiB bytestring
 *   (what a CapTP message carrying bytes is), with `Connection.send`. The
 *   child decodes each one and, after the last, answers with a short
 *   message; goodput is application bytes (the bytestrings) per second
 *   from the first send to that answer. A fresh dialer per run.
 * - the same with 5% of datagrams dropped at each socket's send, in both
 *   directions (deterministic PRNG), against the lossless row. The drop is
 *   injected by bench/_udp_loss.ts, which wraps `Deno.listenDatagram` in
 *   this process, so the netlayer's own socket drops with no test hook in
 *   production code; it is switched on only after the handshake.
 * - "handshake": connect() to an established Connection, each with a fresh
 *   dialer netlayer (new identity: no cached secret), median of many,
 *   beside noise-tcp's handshake to the same child in the same run.
 *
 * The parent spawns itself with `--child`; they talk through JSON lines on
 * the child's stdin and stdout. Every loop is bounded and the child exits
 * when its stdin closes. The only argument is an optional filter on row
 * names. Targets (issue 7): goodput at least 40 MB/s; with 5% loss at least
 * 70% of the lossless goodput. Each goodput figure is the median of `REPS`
 * interleaved runs after one warm-up transfer, since the machine is shared.
 *
 * Tuning knobs, for experiments only: UDP_BENCH_OPTIONS (JSON, a partial
 * UdpDataOptions for both netlayers), UDP_BENCH_CHILD_FLAGS (extra deno
 * flags for the child, e.g. "--cpu-prof"), UDP_BENCH_VERBOSE=1 (per-run
 * socket counters on stderr).
 */
import { parseArgs } from "node:util";
import { encode } from "../protocol/syrup/encode.ts";
import { nativeCrypto } from "../crypto/native.ts";
import type { UdpAddress } from "../netlayers/udp/address.ts";
import { openDatagramSocket } from "../netlayers/udp/socket.ts";
import { NoiseUdpNetlayer } from "../netlayers/noise_udp.ts";
import { NoiseTcpNetlayer } from "../netlayers/noise_tcp.ts";
import type { Connection, OCapNPeer } from "../netlayers/types.ts";
import {
  type BenchRow,
  benchRow,
  jsonLines,
  median,
  printRow,
  spawnChild,
} from "./_measure.ts";
import { loss, setLoss } from "./_udp_loss.ts";

const DATAGRAM = 1200;
const BLAST_MS = 500;
const REPS = 3;
const MESSAGE = 1 << 20;
const MESSAGES = 32;
const HANDSHAKES = 40;
const GIVE_UP_MS = 30_000;
const VERBOSE = Deno.env.get("UDP_BENCH_VERBOSE") === "1";
const DATA = JSON.parse(Deno.env.get("UDP_BENCH_OPTIONS") ?? "{}");
const TUNING = { data: DATA };
const DONE = encode("done");

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { child: { type: "boolean", default: false } },
  allowPositionals: true,
});

const ignore = { message() {}, error() {}, close() {} };

// ---- Child: the receiving end ----

async function serve(): Promise<void> {
  let raw = { count: 0, first: 0, last: 0 };
  let expected = 0;
  let delivered = 0;
  let messages = 0;
  const socket = openDatagramSocket({
    onDatagram() {
      const now = performance.now();
      if (raw.count++ === 0) raw.first = now;
      raw.last = now;
    },
    onDrain() {},
  });
  const udp = NoiseUdpNetlayer.listen({ tuning: TUNING });
  const tcp = NoiseTcpNetlayer.listen();
  tcp.onAccept((c) => c.attach(ignore));
  udp.onAccept((c) =>
    c.attach({
      message(value) {
        if (!(value instanceof Uint8Array)) return;
        delivered += value.length;
        if (++messages === expected) c.send(DONE);
      },
      error() {},
      close() {},
    })
  );
  const say = (x: unknown) => console.log(JSON.stringify(x));
  say({ port: socket.address.port, udp: udp.location, tcp: tcp.location });
  for await (const cmd of jsonLines(Deno.stdin.readable)) {
    if (cmd.cmd === "raw") {
      raw = { count: 0, first: 0, last: 0 };
      say({ ok: true });
    } else if (cmd.cmd === "raw-end") {
      say({ received: raw.count, seconds: (raw.last - raw.first) / 1000 });
    } else if (cmd.cmd === "goodput") {
      delivered = messages = 0;
      expected = cmd.messages;
      setLoss(cmd.loss, cmd.run * 2);
      say({ ok: true });
    } else if (cmd.cmd === "goodput-end") {
      const dropped = loss.dropped;
      setLoss(0, 0);
      say({ delivered, dropped });
    }
  }
  await Promise.all([udp.close(), tcp.close(), socket.close()]);
}

// ---- Parent: the measurements ----

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

/** Resolves with the first message `connection` receives. */
function nextMessage(connection: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    connection.attach({
      message: () => resolve(),
      error: reject,
      close: (reason) => reject(reason ?? new Error("Connection closed")),
    });
  });
}

/** Milliseconds from connect() to an established connection. */
async function handshake(
  make: () => NoiseUdpNetlayer | NoiseTcpNetlayer,
  peer: OCapNPeer,
): Promise<number> {
  const dialer = make();
  try {
    const t0 = performance.now();
    await dialer.connect(peer);
    return performance.now() - t0;
  } finally {
    await dialer.close();
  }
}

async function measure(filter: string | undefined): Promise<void> {
  const child = spawnChild(
    import.meta.filename!,
    Deno.env.get("UDP_BENCH_CHILD_FLAGS")?.split(" ") ?? [],
  );
  const replies = jsonLines(child.stdout);
  const writer = child.stdin.getWriter();
  const ask = async (cmd: unknown) => {
    await writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    const { value, done } = await replies.next();
    if (done) throw new Error("Child exited early");
    return value;
  };
  const hello = (await replies.next()).value;
  const childAddress = { hostname: "127.0.0.1", port: hello.port };
  const names = {
    raw: `raw UDP, ${DATAGRAM}-byte datagrams received`,
    clean: "noise-udp goodput, 1 MiB messages, lossless",
    lossy: "noise-udp goodput, 1 MiB messages, 5% loss",
    tcpHandshake: "noise-tcp handshake (IK) over loopback, two processes",
    udpHandshake: "noise-udp handshake (IK) over loopback, two processes",
  };
  const wanted = (name: string) => !filter || name.includes(filter);
  let run = 0;
  const goodput = async (rate: number, messages = MESSAGES) => {
    run++;
    const dialer = NoiseUdpNetlayer.listen({ tuning: TUNING });
    try {
      const connection = await dialer.connect(hello.udp);
      const answered = nextMessage(connection);
      await ask({ cmd: "goodput", run, loss: rate, messages });
      setLoss(rate, run * 2 + 1);
      const payload = nativeCrypto.randomBytes(MESSAGE);
      const t0 = performance.now();
      for (let i = 0; i < messages; i++) connection.send(encode(payload));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, GIVE_UP_MS);
      });
      await Promise.race([answered, giveUp]);
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const dropped = loss.dropped;
      setLoss(0, 0);
      const end = await ask({ cmd: "goodput-end" });
      if (end.delivered !== MESSAGE * messages) {
        console.error(`Delivered ${end.delivered} of ${MESSAGE * messages}`);
      }
      if (VERBOSE) {
        console.error(JSON.stringify({
          rate,
          seconds,
          dropped: [dropped, end.dropped],
          endpoint: dialer.endpoint.stats(),
        }));
      }
      return end.delivered / seconds / 1e6;
    } finally {
      setLoss(0, 0);
      await dialer.close();
    }
  };
  const rawRates: number[] = [];
  const cleanRates: number[] = [];
  const lossyRates: number[] = [];
  const udpShakes: number[] = [];
  const tcpShakes: number[] = [];
  const needRaw = wanted(names.raw) || wanted(names.clean);
  const needClean = wanted(names.clean) || wanted(names.lossy);
  const needShakes = wanted(names.udpHandshake) || wanted(names.tcpHandshake);
  const identities = () => nativeCrypto.ed25519.generateKeyPair();
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
    if (needShakes) {
      for (let i = -5; i < HANDSHAKES; i++) { // five warm-ups each
        const a = identities();
        const b = identities();
        const u = await handshake(
          () => NoiseUdpNetlayer.listen({ identity: a, tuning: TUNING }),
          hello.udp,
        );
        const t = await handshake(
          () => NoiseTcpNetlayer.listen({ identity: b }),
          hello.tcp,
        );
        if (i >= 0) udpShakes.push(u), tcpShakes.push(t);
      }
    }
  } finally {
    await writer.close();
    await child.status;
  }
  const rawMB = median(rawRates) * DATAGRAM / 1e6;
  const clean = median(cleanRates);
  const rows: BenchRow[] = [];
  if (wanted(names.raw)) {
    rows.push(benchRow(names.raw, median(rawRates), "datagrams/s"));
    rows.push(benchRow(`${names.raw} (MB/s)`, rawMB, "MB/s"));
  }
  if (wanted(names.clean)) {
    rows.push(
      benchRow(names.clean, clean, "MB/s", [`${names.raw} (MB/s)`, rawMB]),
    );
  }
  if (wanted(names.lossy)) {
    rows.push(
      benchRow(names.lossy, median(lossyRates), "MB/s", [names.clean, clean]),
    );
  }
  if (needShakes) {
    const tcp = median(tcpShakes) * 1000;
    rows.push(benchRow(names.tcpHandshake, tcp, "µs"));
    rows.push(
      benchRow(names.udpHandshake, median(udpShakes) * 1000, "µs", [
        names.tcpHandshake,
        tcp,
      ]),
    );
  }
  for (const r of rows) printRow(r);
}

if (values.child) await serve();
else await measure(positionals[0]);
