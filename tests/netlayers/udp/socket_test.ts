/**
 * The real UDP socket wrapper (netlayers/udp/socket.ts) on loopback. Every
 * wait is on a promise resolved by a handler, never a sleep; every test
 * closes its sockets so Deno's op and resource sanitizers stay on.
 */
import assert from "node:assert/strict";
import type { UdpAddress } from "../../../netlayers/udp/address.ts";
import {
  type DatagramSocket,
  type DatagramSocketOptions,
  openDatagramSocket,
} from "../../../netlayers/udp/socket.ts";

interface Inbox {
  socket: DatagramSocket;
  got: { bytes: Uint8Array; from: UdpAddress }[];
  drainsAfter: number[];
  /** Resolves once `n` datagrams arrived in total. */
  receivedAll(n: number): Promise<void>;
  /** Resolves at the first drain after `n` datagrams arrived. */
  drainedAfter(n: number): Promise<void>;
}

function inbox(
  options: Partial<DatagramSocketOptions> & {
    throwOn?: (bytes: Uint8Array) => boolean;
  } = {},
): Inbox {
  const got: Inbox["got"] = [];
  const drainsAfter: number[] = [];
  const waits: { n: number; drain: boolean; resolve: () => void }[] = [];
  const wake = (drain: boolean) => {
    for (const w of [...waits]) {
      if (got.length >= w.n && (!w.drain || drain)) {
        waits.splice(waits.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const wait = (n: number, drain: boolean) =>
    new Promise<void>((resolve) => {
      waits.push({ n, drain, resolve });
      if (!drain) wake(false);
    });
  const socket = openDatagramSocket({
    ...options,
    onDatagram(bytes, from) {
      if (options.throwOn?.(bytes)) throw new Error("Handler failed");
      got.push({ bytes, from });
      wake(false);
    },
    onDrain() {
      drainsAfter.push(got.length);
      wake(true);
    },
  });
  return {
    socket,
    got,
    drainsAfter,
    receivedAll: (n) => wait(n, false),
    drainedAfter: (n) => wait(n, true),
  };
}

/** A plain Deno socket whose awaited sends reach the kernel in order. */
function rawSender() {
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  return {
    send: (bytes: Uint8Array, to: UdpAddress) =>
      conn.send(bytes, { transport: "udp", ...to }),
    close: () => conn.close(),
  };
}

function numbered(i: number, length = 100): Uint8Array {
  const bytes = new Uint8Array(length).fill(i & 0xff);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

Deno.test("two sockets exchange datagrams and report the sender's address", async () => {
  const a = inbox();
  const b = inbox();
  try {
    assert.equal(a.socket.address.hostname, "127.0.0.1");
    assert.ok(a.socket.address.port > 0);
    assert.notEqual(a.socket.address.port, b.socket.address.port);
    a.socket.send(numbered(1), b.socket.address);
    await b.receivedAll(1);
    assert.deepEqual(b.got[0].bytes, numbered(1));
    assert.deepEqual(b.got[0].from, a.socket.address);
    b.socket.send(numbered(2), b.got[0].from);
    await a.receivedAll(1);
    assert.deepEqual(a.got[0].bytes, numbered(2));
    assert.deepEqual(a.got[0].from, b.socket.address);
    assert.equal(a.socket.stats().received, 1);
    assert.equal(b.socket.stats().sent, 1);
  } finally {
    await Promise.all([a.socket.close(), b.socket.close()]);
  }
});

Deno.test("received bytes stay intact while later datagrams arrive", async () => {
  const a = inbox();
  const b = inbox();
  const count = 80; // more than one receive pool of 64 KiB
  try {
    for (let i = 0; i < count; i++) {
      a.socket.send(numbered(i, 1200), b.socket.address);
      if (i % 20 === 19) await b.receivedAll(i + 1);
    }
    await b.receivedAll(count);
    const seen = b.got.map((g) =>
      new DataView(g.bytes.buffer, g.bytes.byteOffset).getUint32(0)
    );
    assert.deepEqual(seen.toSorted((x, y) => x - y), [...Array(count).keys()]);
    for (const { bytes } of b.got) {
      const i = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      assert.deepEqual(bytes, numbered(i, 1200));
    }
  } finally {
    await Promise.all([a.socket.close(), b.socket.close()]);
  }
});

Deno.test("onDrain runs once a burst has been taken in", async () => {
  const a = inbox();
  const b = inbox();
  const burst = 40;
  try {
    for (let i = 0; i < burst; i++) {
      a.socket.send(numbered(i), b.socket.address);
    }
    await b.drainedAfter(burst);
    assert.equal(b.got.length, burst);
    // Drains come between datagrams, never more often than datagrams.
    assert.ok(b.socket.stats().drains <= burst + 1);
    assert.equal(b.drainsAfter.at(-1), burst);
  } finally {
    await Promise.all([a.socket.close(), b.socket.close()]);
  }
});

Deno.test("a throwing handler is counted and the loop goes on", async () => {
  const a = rawSender();
  const b = inbox({ throwOn: (bytes) => bytes[4] === 0xee });
  try {
    const bad = numbered(0);
    bad[4] = 0xee;
    await a.send(bad, b.socket.address);
    await a.send(numbered(1), b.socket.address);
    await b.receivedAll(1);
    assert.deepEqual(b.got[0].bytes, numbered(1));
    assert.equal(b.socket.stats().handlerErrors, 1);
    assert.equal(b.socket.stats().received, 2);
  } finally {
    a.close();
    await b.socket.close();
  }
});

Deno.test("sending to a closed port neither throws nor stops the socket", async () => {
  const gone = inbox();
  const goneAddress = gone.socket.address;
  await gone.socket.close();
  const a = inbox();
  const b = inbox();
  try {
    for (let i = 0; i < 5; i++) a.socket.send(numbered(i), goneAddress);
    a.socket.send(numbered(9), b.socket.address);
    await b.receivedAll(1);
    b.socket.send(numbered(10), a.socket.address);
    await a.receivedAll(1);
    assert.deepEqual(a.got[0].bytes, numbered(10));
  } finally {
    await Promise.all([a.socket.close(), b.socket.close()]);
  }
});

Deno.test("close() stops the loop; later sends are counted as errors", async () => {
  const a = inbox();
  const b = inbox();
  a.socket.send(numbered(1), b.socket.address);
  await b.receivedAll(1);
  await b.socket.close();
  await b.socket.close(); // idempotent
  b.socket.send(numbered(2), a.socket.address);
  assert.equal(b.socket.stats().sendErrors, 1);
  a.socket.send(numbered(3), b.socket.address);
  await a.socket.close();
  assert.equal(b.got.length, 1);
  assert.equal(a.got.length, 0);
});

Deno.test("oversized datagrams are dropped and counted", async () => {
  const a = rawSender();
  const b = inbox({ maxDatagramBytes: 100 });
  try {
    await a.send(numbered(1, 101), b.socket.address);
    await a.send(numbered(2, 100), b.socket.address);
    await b.receivedAll(1);
    assert.deepEqual(b.got[0].bytes, numbered(2, 100));
    assert.equal(b.socket.stats().oversized, 1);
  } finally {
    a.close();
    await b.socket.close();
  }
});

Deno.test("sends beyond maxPendingSends are dropped, not queued", async () => {
  const a = inbox({ maxPendingSends: 1 });
  const b = inbox();
  try {
    for (let i = 0; i < 3; i++) a.socket.send(numbered(i), b.socket.address);
    assert.equal(a.socket.stats().sendDropped, 2);
    await b.receivedAll(1);
    assert.deepEqual(b.got[0].bytes, numbered(0));
    assert.equal(a.socket.stats().sent, 1);
  } finally {
    await Promise.all([a.socket.close(), b.socket.close()]);
  }
});

Deno.test("openDatagramSocket() rejects bad limits with RangeError", () => {
  const handlers = { onDatagram() {}, onDrain() {} };
  assert.throws(
    () => openDatagramSocket({ ...handlers, maxDatagramBytes: 0 }),
    RangeError,
  );
  assert.throws(
    () => openDatagramSocket({ ...handlers, maxPendingSends: 1.5 }),
    RangeError,
  );
});
