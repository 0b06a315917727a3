import assert from "node:assert/strict";
import { pipe } from "../../netlayers/_byte_pipe.ts";

Deno.test("pipe() carries a copy of each write, split over short reads", async () => {
  const [a, b] = pipe();
  const sent = Uint8Array.of(1, 2, 3, 4, 5);
  await a.write(sent);
  sent.fill(0);
  const buffer = new Uint8Array(3);
  assert.equal(await b.read(buffer), 3);
  assert.deepEqual(buffer, Uint8Array.of(1, 2, 3));
  assert.equal(await b.read(buffer), 2);
  assert.deepEqual(buffer.subarray(0, 2), Uint8Array.of(4, 5));
  a.close();
});

Deno.test("pipe() ends the stream for a reader already waiting when the other end closes", async () => {
  const [a, b] = pipe();
  const pending = b.read(new Uint8Array(8));
  await a.closeWrite();
  assert.equal(await pending, null);
  b.close(); // close() ends both directions
  assert.equal(await a.read(new Uint8Array(8)), null);
});
