import assert from "node:assert/strict";
import { makePair, type Pair, patterned } from "./_pair.ts";
import { seededRandom } from "./_link_shim.ts";
import { PeerSilentError } from "../../../netlayers/udp/errors.ts";
import { peekSession } from "../../../netlayers/udp/wire.ts";

const MiB = 1024 * 1024;

function workload(seed: number): number[] {
  const random = seededRandom(seed);
  const sizes = [1, 0, 1151, 1152, 1153, 2304, 64 * 1024, MiB, 2 * MiB, 17];
  for (let i = 0; i < 30; i++) sizes.push(1 + Math.floor(random() * 5000));
  sizes.push(300_000, 1, 2 * MiB - 1);
  return sizes;
}

async function sendAll(pair: Pair, sizes: number[]): Promise<void> {
  const base = pair.inbox.bob.length;
  const sends = sizes.map((size, i) => pair.alice.send(patterned(size, i)));
  pair.run(() => pair.inbox.bob.length === base + sizes.length);
  pair.run(() => !pair.alice.busy && !pair.bob.busy);
  await Promise.all(sends);
}

function assertDelivered(pair: Pair, sizes: number[]): void {
  assert.equal(pair.inbox.bob.length, sizes.length);
  pair.inbox.bob.forEach((message, i) => {
    assert.deepEqual(message, patterned(sizes[i], i), `message ${i}`);
  });
}

function assertBaseline(pair: Pair): void {
  pair.close();
  assert.deepEqual(pair.registry.stats(), {
    live: 0,
    byKind: {},
    deadlines: 0,
    tables: 0,
  });
  assert.equal(pair.clock.pending, 0, "no timer left behind");
}

for (const loss of [0, 0.05, 0.2]) {
  Deno.test(
    `UdpChannel delivers a 1 B..2 MiB workload exactly once, intact, in order at ${
      loss * 100
    }% loss with reordering and duplication`,
    async () => {
      const pair = makePair({
        seed: 7 + loss * 100,
        faults: {
          drop: loss,
          duplicate: 0.05,
          reorder: 0.1,
          reorderSpread: 8,
          delay: 5,
        },
      });
      const sizes = workload(3);
      await sendAll(pair, sizes);
      assertDelivered(pair, sizes);
      const bob = pair.bob.stats();
      assert.equal(bob.reassembly.delivered, sizes.length);
      assert.equal(bob.reassembly.open, 0);
      if (loss > 0) assert.ok(pair.alice.stats().sender.retransmissions > 0);
      if (pair.link.counters.duplicated > 0) {
        assert.ok(
          bob.replayed > 0,
          "duplicated datagrams are dropped as replays",
        );
      }
      assertBaseline(pair);
    },
  );
}

Deno.test("UdpChannel carries messages both ways at once", async () => {
  const pair = makePair({ faults: { drop: 0.05, reorder: 0.1, delay: 3 } });
  const a = [1, 5000, 70_000].map((n, i) => pair.alice.send(patterned(n, i)));
  const b = [9000, 2, 300].map((n, i) => pair.bob.send(patterned(n, i + 10)));
  pair.run(() => pair.inbox.alice.length === 3 && pair.inbox.bob.length === 3);
  pair.run(() => !pair.alice.busy && !pair.bob.busy);
  await Promise.all([...a, ...b]);
  assert.deepEqual(pair.inbox.alice[0], patterned(9000, 10));
  assert.deepEqual(pair.inbox.bob[2], patterned(70_000, 2));
  assertBaseline(pair);
});

Deno.test("UdpChannel drops tampered datagrams and counts them", async () => {
  const pair = makePair({ seed: 11, faults: { corrupt: 0.1, delay: 2 } });
  const sizes = [10, 50_000, 200_000];
  await sendAll(pair, sizes);
  assertDelivered(pair, sizes);
  const tampered = pair.alice.stats().tampered + pair.bob.stats().tampered +
    pair.alice.stats().malformed + pair.bob.stats().malformed +
    pair.alice.stats().misrouted + pair.bob.stats().misrouted + pair.unrouted +
    pair.alice.stats().replayed + pair.bob.stats().replayed;
  assert.ok(pair.link.counters.corrupted > 0);
  assert.equal(tampered, pair.link.counters.corrupted);
  assertBaseline(pair);
});

Deno.test("UdpChannel sends no heartbeat while idle", () => {
  const pair = makePair();
  pair.clock.advance(60_000);
  assert.equal(pair.link.counters.sent, 0);
  assert.equal(pair.alice.stats().keepalives, 0);
  assertBaseline(pair);
});

Deno.test(
  "UdpChannel fails pending messages and the session when the peer stays silent",
  async () => {
    const pair = makePair({
      faults: { delay: 2 },
      data: { silentPeerTimeout: 5_000 },
    });
    pair.link.faults.drop = 1;
    const sent = pair.alice.send(patterned(10_000, 0));
    const failed = assert.rejects(sent, (e) => e instanceof PeerSilentError);
    const at = pair.run(() => pair.alice.closed);
    await failed;
    assert.ok(at >= 5_000 && at < 6_000, `failed after ${at} ms`);
    assert.ok(pair.closed.alice instanceof PeerSilentError);
    assert.ok(
      pair.alice.stats().keepalives > 0,
      "heartbeats while work is pending",
    );
    assert.ok(pair.alice.stats().sender.probes > 0);
    assertBaseline(pair);
  },
);

Deno.test("UdpChannel halves its datagram size when large datagrams vanish", async () => {
  const pair = makePair({ faults: { delay: 2, maxSize: 700 } });
  const sizes = [40_000, 3];
  await sendAll(pair, sizes);
  assertDelivered(pair, sizes);
  const sender = pair.alice.stats().sender;
  assert.equal(sender.halvings, 1);
  assert.equal(sender.datagramSize, 600);
  assertBaseline(pair);
});

Deno.test("UdpChannel drops a replayed datagram and counts it", async () => {
  const pair = makePair({ faults: { delay: 1 } });
  const captured: Uint8Array[] = [];
  const send = pair.link.send.bind(pair.link);
  pair.link.send = (to, bytes) => {
    if (to === "b") captured.push(bytes.slice());
    send(to, bytes);
  };
  await sendAll(pair, [2000]);
  for (const bytes of captured) pair.bob.receive(bytes);
  pair.bob.flush();
  assert.equal(pair.bob.stats().replayed, captured.length);
  assert.equal(pair.inbox.bob.length, 1);
  assertBaseline(pair);
});

Deno.test("UdpChannel rejects a flood of random datagrams cheaply and still works", async () => {
  const pair = makePair({ faults: { delay: 1 } });
  const random = seededRandom(4);
  let first: Uint8Array | undefined;
  const send = pair.link.send.bind(pair.link);
  pair.link.send = (to, bytes) => {
    if (to === "b") first ??= bytes.slice();
    send(to, bytes);
  };
  await sendAll(pair, [1]);
  const bobCode = peekSession(first!);
  const before = pair.bob.stats().received;
  for (let i = 0; i < 5000; i++) {
    const bytes = new Uint8Array(16 + Math.floor(random() * 1200));
    for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
    if (i % 2 === 0 && bytes.length >= 48) {
      bytes.set([4, 0, 0, 0], 0); // looks like data for Bob's session
      new DataView(bytes.buffer).setUint32(4, bobCode);
    }
    pair.bob.receive(bytes);
  }
  const s = pair.bob.stats();
  assert.equal(s.received, before, "nothing forged was accepted");
  assert.equal(s.reassembly.open, 0);
  assert.equal(s.malformed + s.misrouted + s.tampered + s.refused, 5000);
  await sendAll(pair, [3000]);
  assert.equal(pair.inbox.bob.length, 2);
  assertBaseline(pair);
});
