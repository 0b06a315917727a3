/**
 * CapTP over loopback TCP between two processes (CapTP draft,
 * "op:deliver"; tcp-testing-only netlayer): what a call costs once the
 * session is up, beside a raw TCP echo of the same bytes measured in the
 * same run, so the figure says how much the runtime adds to the wire.
 *
 * The parent spawns itself with `--child`: the child serves an OCapNNode on
 * 127.0.0.1 port 0 plus a raw echo socket, prints `{uri, echoPort}` as its
 * first stdout line, and exits when its stdin closes. Every loop is bounded;
 * rows are JSON lines in bench/run.ts's format. The only argument is an
 * optional filter on row names.
 *
 * Targets (from the issue): a round trip at most 1.5 times the raw echo; at
 * least 50,000 deliver-only messages per second.
 */
import { parseArgs } from "node:util";
import { E } from "../runtime/e.ts";
import { OCapNNode } from "../runtime/node.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import { encode } from "../protocol/syrup/encode.ts";
import { opDeliver } from "../protocol/captp/operations.ts";
import type { QuestionPos } from "../protocol/captp/positions.ts";
import { record } from "../protocol/syrup/value.ts";
import { type BenchRow, benchRow, median } from "./_measure.ts";

const ROUND_TRIPS = 4000;
/** Round trips of each kind in a row before switching to the other. */
const BLOCK = 50;
/**
 * Calls (each beside an echo) before anything is timed. V8 compiles a
 * function with its optimizing tier only after thousands of runs; with
 * 200 the calls were timed partly in baseline code (about 1.7 times the
 * echo, against about 1.5 once warm), which a long-running vat leaves
 * behind within its first second.
 */
const WARMUP = 20_000;
const DELIVER_ONLY = 100_000;
const CHAIN = 10;
const CHAIN_REPS = 300;

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { child: { type: "boolean", default: false } },
  allowPositionals: true,
});

/**
 * What one measured call puts on the wire once the session is warm: the
 * asker's op:deliver and the answerer's answer, one write each way. Their
 * GC messages are paced (protocol/captp/imports.ts): back-to-back calls
 * share one op:gc-answers and one op:gc-exports per GC_INTERVAL_MS or per
 * MAX_PACED_RELEASES calls, whichever comes first (a few hundred calls
 * here), so no single call carries them. The echo
 * baseline sends `request` and waits for `response`.
 */
function sampleExchange(): { request: Uint8Array; response: Uint8Array } {
  const request = encode(opDeliver(record("desc:export", 1n), [
    Symbol.for("echo"),
    "hello",
  ], {
    answerPos: 1 as QuestionPos,
    resolveMeDesc: record("desc:import-object", 2n),
  }));
  const response = encode(opDeliver(record("desc:export", 2n), [
    Symbol.for("fulfill"),
    "hello",
  ]));
  return { request, response };
}

// ---- Child: the server ----

async function serve(): Promise<void> {
  const node = new OCapNNode();
  node.listen(TcpTestingNetlayer.listen({ port: 0, lingerMs: 50 }));
  let received = 0;
  const target = node.vat.makeFar("Bench", {
    echo: (x: unknown) => x,
    count: () => void received++,
    received: () => BigInt(received),
    next: () => target,
  });
  const uri = node.publishUri(target, { swiss: "bench" });
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoLoop = (async () => {
    for await (const conn of echo) {
      conn.setNoDelay(true);
      respond(conn).catch(() => {});
    }
  })();
  console.log(JSON.stringify({ uri, echoPort: echo.addr.port }));
  // Runs until the parent closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* ignore input */ }
  echo.close();
  await echoLoop.catch(() => {});
  await node.close();
}

/**
 * The baseline's server: the same socket calls as netlayers/
 * stream_connection.ts (read into one buffer, one write per reply), and
 * nothing else.
 */
async function respond(conn: Deno.TcpConn): Promise<void> {
  const { request, response } = sampleExchange();
  const buffer = new Uint8Array(64 * 1024);
  let got = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    got += n;
    for (; got >= request.length; got -= request.length) {
      let offset = 0;
      while (offset < response.length) {
        offset += await conn.write(response.subarray(offset));
      }
    }
  }
  conn.close();
}

// ---- Parent: the measurements ----

/**
 * Round trips of the raw exchange and of a CapTP call, alternating in
 * blocks so that both see the same machine load (the host is shared and
 * noisy); medians in µs, [captp, echo].
 */
async function roundTrips(
  port: number,
  target: unknown,
): Promise<[number, number]> {
  const { request, response } = sampleExchange();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64 * 1024);
  const echo = async () => {
    await conn.write(request);
    for (let got = 0; got < response.length;) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("Echo closed early");
      got += n;
    }
  };
  const call = () => E(target).echo("hello");
  const echoTimes: number[] = [];
  const callTimes: number[] = [];
  for (let i = 0; i < WARMUP; i++) {
    await echo();
    await call();
  }
  for (let block = 0; block < ROUND_TRIPS / BLOCK; block++) {
    for (let i = 0; i < BLOCK; i++) {
      const t0 = performance.now();
      await echo();
      echoTimes.push(performance.now() - t0);
    }
    for (let i = 0; i < BLOCK; i++) {
      const t0 = performance.now();
      await call();
      callTimes.push(performance.now() - t0);
    }
  }
  conn.close();
  return [median(callTimes) * 1000, median(echoTimes) * 1000];
}

/** `DELIVER_ONLY` send-onlys in bursts of `burst`, each burst flushed. */
async function deliverOnlyRate(
  target: unknown,
  burst: number,
): Promise<number> {
  const before = await E(target).received() as bigint;
  const t0 = performance.now();
  let after = before;
  for (let sent = 0; sent < DELIVER_ONLY; sent += burst) {
    for (let i = 0; i < burst; i++) E.sendOnly(target).count();
    after = await E(target).received() as bigint;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (after - before !== BigInt(DELIVER_ONLY)) {
    throw new Error(`Lost messages: ${after - before} of ${DELIVER_ONLY}`);
  }
  return DELIVER_ONLY / seconds;
}

async function chains(target: unknown): Promise<[number, number]> {
  const pipelined: number[] = [];
  const sequential: number[] = [];
  for (let rep = 0; rep < CHAIN_REPS; rep++) {
    let t0 = performance.now();
    let p: unknown = target;
    for (let i = 0; i < CHAIN; i++) p = E(p).next();
    await p;
    pipelined.push(performance.now() - t0);
    t0 = performance.now();
    let r: unknown = target;
    for (let i = 0; i < CHAIN; i++) r = await E(r).next();
    sequential.push(performance.now() - t0);
  }
  return [median(pipelined) * 1000, median(sequential) * 1000];
}

async function measure(filter: string | undefined): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", import.meta.filename!, "--child"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("Child exited before printing its address");
    text += value;
  }
  const { uri, echoPort } = JSON.parse(text.split("\n")[0]);
  const node = new OCapNNode();
  node.listen(TcpTestingNetlayer.listen({ port: 0, lingerMs: 50 }));
  const wanted = (name: string) => !filter || name.includes(filter);
  const rows: BenchRow[] = [];
  try {
    const target = await node.enliven(uri);
    const names = {
      rt: "captp round trip (deliver with answer, tcp loopback)",
      rate: `captp deliver-only messages, one burst of ${DELIVER_ONLY}`,
      rate1k: "captp deliver-only messages, bursts of 1000",
      chain: `captp ${CHAIN}-step pipelined chain (tcp loopback)`,
    };
    if (wanted(names.rt)) {
      const [rt, echo] = await roundTrips(echoPort, target);
      rows.push(
        benchRow(names.rt, rt, "µs", ["raw tcp echo, same bytes", echo]),
      );
    }
    if (wanted(names.rate)) {
      const rate = await deliverOnlyRate(target, DELIVER_ONLY);
      rows.push(benchRow(names.rate, rate, "msg/s"));
    }
    if (wanted(names.rate1k)) {
      const rate = await deliverOnlyRate(target, 1000);
      rows.push(benchRow(names.rate1k, rate, "msg/s"));
    }
    if (wanted(names.chain)) {
      const [pipelined, sequential] = await chains(target);
      rows.push(benchRow(names.chain, pipelined, "µs", [
        `${CHAIN} sequential awaited calls`,
        sequential,
      ]));
    }
  } finally {
    await node.close();
    await child.stdin.close();
    await lines.cancel();
    await child.status;
  }
  for (const r of rows) console.log(JSON.stringify(r));
}

if (values.child) await serve();
else await measure(positionals[0]);
