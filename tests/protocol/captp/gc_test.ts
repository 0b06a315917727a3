import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
} from "./_harness.ts";

Deno.test("gc-exports deltas free an export only when every reference is accounted for", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob, { dialect: "suite-rod" });
  await h.settle();
  const thing = far({ id: () => 1 });
  const swiss = bob.directory.swiss.publish(
    far({ same: () => [thing, thing, thing] }),
  );
  const obj = a.fetch(swiss);
  await h.settle();
  const list = send(await obj, "same");
  await h.settle();
  const [x, y] = (await list) as object[];
  assert.equal(x, y); // one import, one presence
  assert.equal(b.stats().exports, 2); // the maker and `thing`
  alice.finalizer.collectAll();
  await h.settle();
  assert.ok(h.transcript.includes("alice: op:gc-export"));
  assert.ok(h.transcript.includes("alice: op:gc-answer"));
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});

Deno.test("a long run of calls returns every table to empty", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob);
  await h.settle();
  const swiss = bob.directory.swiss.publish(
    far({ make: (n: bigint) => far({ n: () => n }) }),
  );
  const maker = a.fetch(swiss);
  await h.settle();
  for (let i = 0n; i < 200n; i++) {
    const made = send(maker, "make", i);
    const n = send(made, "n");
    await h.settle();
    assert.equal(await n, i);
    // The vat drops what it made; the maker stays in use.
    alice.finalizer.collect((await made) as object);
  }
  assert.equal(a.stats().imports, 1);
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});
