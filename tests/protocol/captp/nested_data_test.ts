import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
} from "./_harness.ts";
import { Tagged } from "../../../protocol/model.ts";

async function echoPair() {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob);
  await h.settle();
  const seen: unknown[] = [];
  const bobsThing = far({ who: () => "bob's thing" });
  const swiss = bob.directory.swiss.publish(far({
    echo: (...args: unknown[]) => (seen.push(args), args),
    give: () => ({ inner: { thing: bobsThing, list: [bobsThing] } }),
  }));
  const echo = a.fetch(swiss);
  await h.settle();
  return { h, alice, bob, a, b, seen, echo: await echo };
}

const big = 2n ** 200n + 1n;
const data = () => ({
  ints: [0n, -1n, big, -big],
  floats: [0.5, -0, Infinity],
  text: ["", "é ☃ 𝄞"],
  bytes: new Uint8Array([0, 1, 255]),
  flags: [true, false, null, undefined],
  selector: Symbol.for("a-selector"),
  nested: { list: [[[]], { deeper: [new Tagged("t", { x: [1n] })] }] },
  tagged: new Tagged("outer", new Tagged("inner", [new Uint8Array(0)])),
});

Deno.test("nested structs, lists, tagged values, bigints and bytes round-trip through two sessions", async () => {
  const { h, alice, bob, a, b, seen, echo } = await echoPair();
  const sent = data();
  const back = send(echo, "echo", sent, [sent.nested]);
  await h.settle();
  assert.deepEqual(await back, [data(), [data().nested]]);
  // Bob's vat saw the same values alice sent (not wire forms).
  assert.deepEqual(seen, [[data(), [data().nested]]]);
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});

Deno.test("a reference inside a struct crosses and comes back as the same object", async () => {
  const { h, alice, bob, a, b, seen, echo } = await echoPair();
  const mine = far({ hello: () => "alice's" });
  const back = send(echo, "echo", { deep: { list: [mine, mine] } });
  await h.settle();
  const [got] = (await back) as [{ deep: { list: object[] } }];
  assert.equal(got.deep.list[0], mine);
  assert.equal(got.deep.list[1], mine);
  // On bob's side it was one presence, and it is callable.
  const [[theirs]] = seen as [[{ deep: { list: object[] } }]];
  assert.equal(theirs.deep.list[0], theirs.deep.list[1]);
  const said = send(theirs.deep.list[0], "hello");
  await h.settle();
  assert.equal(await said, "alice's");
  bob.finalizer.collectAll();
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});

Deno.test("a struct answer holding bob's references yields callable presences", async () => {
  const { h, alice, bob, a, b, echo } = await echoPair();
  const given = send(echo, "give");
  await h.settle();
  const { inner } = (await given) as {
    inner: { thing: object; list: object[] };
  };
  assert.equal(inner.thing, inner.list[0]);
  const who = send(inner.thing, "who");
  await h.settle();
  assert.equal(await who, "bob's thing");
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});
