import assert from "node:assert/strict";
import { type Fragment, SendQueue } from "../../../netlayers/udp/send_queue.ts";
import { DATA_HEADER_LENGTH, TAG_LENGTH } from "../../../netlayers/udp/wire.ts";

const PAYLOAD = 100;

function queue(
  options: { maxOpenMessages?: number; maxBufferedBytes?: number } = {},
) {
  return new SendQueue({
    datagramSize: PAYLOAD + DATA_HEADER_LENGTH + TAG_LENGTH,
    maxMessageBytes: 1000,
    maxOpenMessages: options.maxOpenMessages ?? 8,
    maxBufferedBytes: options.maxBufferedBytes ?? 10_000,
  });
}

function take(q: SendQueue): Fragment {
  const f = q.next();
  assert.ok(f !== undefined, "expected a fragment");
  return f;
}

Deno.test("SendQueue hands out each fragment once and resolves a message when all are acked", async () => {
  const q = queue();
  const done = q.add(new Uint8Array(250));
  const fragments = [take(q), take(q), take(q)];
  assert.equal(q.next(), undefined);
  assert.deepEqual(fragments.map((f) => [f.index, f.count, f.again]), [
    [0, 3, false],
    [1, 3, false],
    [2, 3, false],
  ]);
  for (const f of fragments) q.acked(f.message, f);
  await done;
  assert.ok(q.outstanding);
  q.settle();
  assert.equal(q.outstanding, false);
});

Deno.test("SendQueue sends a lost fragment again before new ones and counts a duplicate ack once", () => {
  const q = queue();
  q.add(new Uint8Array(250));
  const first = take(q);
  q.lost(first.message, first);
  const again = take(q);
  assert.deepEqual([again.index, again.again], [0, true]);
  const second = take(q);
  assert.deepEqual([second.index, second.again], [1, false]);
  q.acked(first.message, first);
  q.acked(again.message, again);
  assert.equal(first.message.ackedCount, 1);
  q.lost(first.message, first);
  assert.equal(take(q).index, 2, "an acked fragment is not sent again");
});

Deno.test("SendQueue starts no more than maxOpenMessages messages before the oldest settles", () => {
  const q = queue({ maxOpenMessages: 2 });
  for (let i = 0; i < 3; i++) q.add(new Uint8Array(10));
  const a = take(q);
  assert.equal(take(q).message.sequence, 1);
  assert.equal(q.next(), undefined);
  q.acked(a.message, a);
  q.settle();
  assert.equal(take(q).message.sequence, 2);
});

Deno.test("SendQueue starts a message over maxBufferedBytes only when none is started", () => {
  const q = queue({ maxBufferedBytes: 150 });
  q.add(new Uint8Array(100));
  q.add(new Uint8Array(100));
  const a = take(q);
  assert.equal(q.next(), undefined);
  q.acked(a.message, a);
  q.settle();
  assert.equal(take(q).message.sequence, 1);
});

Deno.test("SendQueue.resize() splits unfinished messages again and ignores stale fragments", () => {
  const q = queue();
  q.add(new Uint8Array(250));
  const old = [take(q), take(q)];
  q.acked(old[0].message, old[0]);
  q.resize(PAYLOAD / 2 + DATA_HEADER_LENGTH + TAG_LENGTH);
  q.acked(old[1].message, old[1]);
  q.lost(old[1].message, old[1]);
  assert.equal(old[0].message.ackedCount, 0);
  const f = take(q);
  assert.deepEqual([f.index, f.count, f.again], [0, 5, false]);
});

Deno.test("SendQueue rejects a message over maxMessageBytes, and fail() rejects the unfinished", async () => {
  const q = queue();
  await assert.rejects(q.add(new Uint8Array(1001)), RangeError);
  const done = q.add(new Uint8Array(10));
  const pending = q.add(new Uint8Array(10));
  const f = take(q);
  q.acked(f.message, f);
  await done;
  const error = new Error("session closed");
  q.fail(error);
  await assert.rejects(pending, (e) => e === error);
  assert.equal(q.outstanding, false);
  assert.equal(q.next(), undefined);
});
