/**
 * Costs of the `noise-tcp` netlayer (netlayers/noise_tcp.ts), each beside a
 * baseline measured in the same run:
 *
 * - session establishment, both sides in one process over an in-memory
 *   pipe: the netlayer's own handshake code (cookie macs, the xstate
 *   machine, registry entries, frames, key confirmation) plus an
 *   op:start-session-sized exchange each way (a fresh Ed25519 session key,
 *   a signature over our location, sealed, opened, decoded, verified), per
 *   crypto backend, against the floor: every primitive call that one
 *   session makes, recorded and replayed back to back;
 * - the cookie gate's check of one initiation (mac1 only, and under load);
 * - throughput of 1 KiB messages and a message round trip over loopback
 *   TCP, against tcp-testing-only in the same run.
 *
 * @chainsafe/libp2p-noise is not driven here: its handshake needs libp2p
 * connection and stream objects, which did not fit this piece's budget.
 *
 * Prints JSON lines {name, value, unit, baseline, baseline_value, ratio};
 * loops are bounded and only loopback is used.
 */
import { nativeCrypto, nobleCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { ManualClock } from "../protocol/manual_clock.ts";
import { Registry } from "../protocol/registry.ts";
import { encode } from "../protocol/syrup/encode.ts";
import { decode } from "../protocol/syrup/decode.ts";
import { record, type SyrupValue } from "../protocol/syrup/value.ts";
import { peerToSyrup } from "../protocol/locator.ts";
import { noiseIdentity } from "../netlayers/noise/peer_handshake.ts";
import type { NoiseTransport } from "../netlayers/noise/transport.ts";
import {
  answerHandshake,
  CookieGate,
  dialHandshake,
  type HandshakeContext,
} from "../netlayers/_noise_tcp_handshake.ts";
import type { SocketLike } from "../netlayers/_noise_tcp_duplex.ts";
import {
  NOISE_TCP_PROLOGUE,
  NoiseTcpNetlayer,
} from "../netlayers/noise_tcp.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import type { Connection, Netlayer } from "../netlayers/types.ts";
import { CookieInitiator } from "../netlayers/noise/cookie.ts";
import { PeerInitiator } from "../netlayers/noise/peer_handshake.ts";

function emit(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
) {
  console.log(JSON.stringify({
    name,
    value: Number(value.toPrecision(4)),
    unit,
    baseline,
    baseline_value: Number(baselineValue.toPrecision(4)),
    ratio: Number((value / baselineValue).toPrecision(3)),
  }));
}

/** One end of an in-memory byte pipe. */
class PipeEnd implements SocketLike {
  peer!: PipeEnd;
  #chunks: Uint8Array[] = [];
  #eof = false;
  #wake: (() => void) | undefined;

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#eof) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return n;
  }
  write(bytes: Uint8Array): Promise<number> {
    this.peer.#push(bytes.slice());
    return Promise.resolve(bytes.length);
  }
  closeWrite(): Promise<void> {
    this.peer.#end();
    return Promise.resolve();
  }
  close(): void {
    this.peer.#end();
    this.#end();
  }
  #push(bytes: Uint8Array) {
    this.#chunks.push(bytes);
    this.#wake?.();
  }
  #end() {
    this.#eof = true;
    this.#wake?.();
  }
}

function pipe(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
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

const location = peerToSyrup({
  transport: "noise-tcp",
  designator: "a".repeat(52),
  hints: { host: "127.0.0.1", port: "4000" },
});

/** Our half of op:start-session, sealed: a fresh session key signs our location. */
function startSession(c: CryptoProvider, t: NoiseTransport): Uint8Array {
  const session = c.ed25519.generateKeyPair();
  const signature = c.ed25519.sign(session.secretKey, encode(location));
  return t.seal(encode(record(
    "op:start-session",
    "1.0",
    record("public-key", session.publicKey),
    location,
    record("sig-val", signature),
  )));
}

function acceptSession(
  c: CryptoProvider,
  t: NoiseTransport,
  sealed: Uint8Array,
) {
  const op = decode(t.open(sealed)) as { fields: SyrupValue[] };
  const key = (op.fields[1] as { fields: Uint8Array[] }).fields[0];
  const sig = (op.fields[3] as { fields: Uint8Array[] }).fields[0];
  if (!c.ed25519.verify(key, encode(op.fields[2]), sig)) throw new Error("bad");
}

async function establish(
  dialer: HandshakeContext,
  responder: HandshakeContext,
  gate: CookieGate,
) {
  const [a, b] = pipe();
  const [d, r] = await Promise.all([
    dialHandshake(dialer, {
      connect: () => Promise.resolve(a),
      remoteIdentity: responder.identity.ed25519.publicKey,
    }),
    answerHandshake(responder, b, { gate, address: "memory" }),
  ]);
  const dt = d.established.transport;
  const rt = r!.established.transport;
  acceptSession(responder.crypto, rt, startSession(dialer.crypto, dt));
  acceptSession(dialer.crypto, dt, startSession(responder.crypto, rt));
  dt.close();
  rt.close();
  a.close();
}

/** Wraps `inner`, logging a replayable closure for every primitive call. */
function recording(
  inner: CryptoProvider,
  log: (() => unknown)[],
): CryptoProvider {
  const rec = <A extends unknown[], R>(fn: (...a: A) => R) => (...a: A): R => {
    const copies = a.map((x) => x instanceof Uint8Array ? x.slice() : x) as A;
    log.push(() => fn(...copies));
    return fn(...a);
  };
  return {
    name: inner.name,
    randomBytes: rec(inner.randomBytes),
    hash: rec(inner.hash),
    hmac: rec(inner.hmac),
    x25519: {
      generateKeyPair: rec(inner.x25519.generateKeyPair),
      publicKey: rec(inner.x25519.publicKey),
      sharedSecret: rec(inner.x25519.sharedSecret),
    },
    ed25519: {
      generateKeyPair: rec(inner.ed25519.generateKeyPair),
      publicKey: rec(inner.ed25519.publicKey),
      sign: rec(inner.ed25519.sign),
      verify: rec(inner.ed25519.verify),
    },
    aead: { seal: rec(inner.aead.seal), open: rec(inner.aead.open) },
  };
}

async function timeLoop(ms: number, body: () => Promise<void> | void) {
  for (let i = 0; i < 50; i++) await body();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) await body();
    n += 20;
  }
  return (performance.now() - start) / n; // ms per iteration
}

async function benchSessions() {
  for (const c of [nativeCrypto, nobleCrypto]) {
    const dialer = context(c);
    const responder = context(c);
    const gate = new CookieGate(responder, {});
    const log: (() => unknown)[] = [];
    await establish(
      { ...dialer, crypto: recording(c, log) },
      { ...responder, crypto: recording(c, log) },
      gate,
    );
    const budget = c === nativeCrypto ? 1500 : 3000;
    const full = await timeLoop(
      budget,
      () => establish(dialer, responder, gate),
    );
    const floor = await timeLoop(budget, () => {
      for (const call of log) call();
    });
    emit(
      `noise-tcp session establishment (${c.name})`,
      1000 / full,
      "sessions/s",
      `primitive floor (${c.name}, ${log.length} calls)`,
      1000 / floor,
    );
  }
}

function benchCookie() {
  const responder = context(nativeCrypto);
  const gate = new CookieGate(responder, {});
  const initiator = new PeerInitiator(nativeCrypto, {
    identity: noiseIdentity(
      nativeCrypto,
      nativeCrypto.ed25519.generateKeyPair(),
    ),
    remoteIdentity: responder.identity.ed25519.publicKey,
  });
  const stamped = new CookieInitiator(nativeCrypto, {
    remoteStaticPublicKey: responder.identity.x25519.publicKey,
    clock: responder.clock,
  }).stamp(initiator.start());
  const time = (n: number, fn: () => void) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    return (performance.now() - start) * 1000 / n; // µs
  };
  const hash = time(20000, () => nativeCrypto.hash("blake2s", stamped));
  const check = time(20000, () => gate.check(stamped, "127.0.0.1"));
  gate.forceUnderLoad = true;
  const loaded = time(20000, () => gate.check(stamped, "127.0.0.1"));
  emit(
    "cookie gate check, mac1 only",
    check,
    "µs/message",
    "one BLAKE2s of the initiation",
    hash,
  );
  emit(
    "cookie gate check under load (cookie reply)",
    loaded,
    "µs/message",
    "one BLAKE2s of the initiation",
    hash,
  );
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

await benchSessions();
benchCookie();
const noise = () => NoiseTcpNetlayer.listen();
const plain = () => TcpTestingNetlayer.listen();
const [plainMB, noiseMB] = [
  await transfer(plain, 20000),
  await transfer(noise, 20000),
];
emit(
  "noise-tcp throughput, 1 KiB messages",
  noiseMB,
  "MB/s",
  "tcp-testing-only",
  plainMB,
);
const [plainRtt, noiseRtt] = [
  await roundTrip(plain, 2000),
  await roundTrip(noise, 2000),
];
emit("noise-tcp round trip", noiseRtt, "µs", "tcp-testing-only", plainRtt);
