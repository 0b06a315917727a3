import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
} from "./_harness.ts";

const ROUNDS = 2000;

Deno.test(`${ROUNDS} calls passing fresh references both ways return every table and registry to empty`, async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob);
  await h.settle();
  const received: object[] = [];
  const swiss = bob.directory.swiss.publish(far({
    // Calls back on alice's fresh reference, answers a fresh one of bob's.
    swap: async (ref: object) => {
      received.push(ref);
      const n = await send(ref, "n");
      return far({ n: () => n });
    },
  }));
  const fetched = a.fetch(swiss);
  await h.settle();
  const swapper = await fetched;
  let peak = 0;
  for (let i = 0n; i < BigInt(ROUNDS); i++) {
    const mine = far({ n: () => i });
    const theirs = send(swapper, "swap", mine);
    const n = send(theirs, "n"); // pipelined on the answer position
    await h.settle();
    assert.equal(await n, i);
    peak = Math.max(peak, a.stats().imports + b.stats().imports);
    // Each vat drops what it received this round.
    alice.finalizer.collect((await theirs) as object);
    bob.finalizer.collect(received.pop()!);
    await h.settle();
    if (i % 500n === 0n) {
      // Only the swapper is left: alice's import 1, bob's export 1.
      assert.deepEqual(
        [a.stats(), b.stats()],
        [
          { exports: 0, imports: 1, questions: 0, answers: 0 },
          { exports: 1, imports: 0, questions: 0, answers: 0 },
        ],
      );
    }
  }
  assert.ok(peak <= 3, `imports peaked at ${peak}`);
  // Calls went both ways each round: swap, n and bob's n on alice's ref.
  const delivers = h.transcript.filter((l) => l.endsWith("op:deliver"));
  assert.ok(delivers.length >= 6 * ROUNDS, `${delivers.length} delivers`);
  assert.equal(received.length, 0);
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  assert.equal(alice.finalizer.size + bob.finalizer.size, 0);
  for (const vat of [alice, bob]) {
    // Only the session itself is left in the registry while it is open.
    assert.equal(vat.registry.stats().live, 1, vat.name);
  }
  await finish(h, [alice, bob]);
});
