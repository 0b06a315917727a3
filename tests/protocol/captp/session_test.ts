import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
} from "./_harness.ts";
import { SessionSeveredError } from "../../../protocol/captp/errors.ts";

async function openPair(dialect?: "draft" | "suite-rod" | "suite-refs") {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob, { dialect });
  await h.settle();
  return { h, alice, bob, a, b };
}

Deno.test("start-session opens both sides and exchanges one hello each", async () => {
  const { h, alice, bob, a, b } = await openPair();
  assert.equal(a.state, "open");
  assert.equal(b.state, "open");
  assert.deepEqual(h.labels(), [
    "alice: op:start-session",
    "bob: op:start-session",
  ]);
  assert.deepEqual(a.id, b.id);
  assert.deepEqual(a.peerSideId, b.localSideId);
  await finish(h, [alice, bob]);
});

Deno.test("fetch returns a published object and a call on it round-trips", async () => {
  const { h, alice, bob, a } = await openPair();
  const swiss = bob.directory.swiss.publish(
    far({ greet: (n: string) => `hi ${n}` }),
  );
  const p = a.fetch(swiss);
  await h.settle();
  const greeter = await p;
  const answer = send(greeter, "greet", "alice");
  await h.settle();
  assert.equal(await answer, "hi alice");
  await h.settle();
  await finish(h, [alice, bob]);
});

Deno.test("fetch breaks for an unknown swiss number", async () => {
  const { h, alice, bob, a } = await openPair();
  const p = a.fetch(new TextEncoder().encode("nobody"));
  await h.settle();
  await assert.rejects(p, /swiss number/);
  await finish(h, [alice, bob]);
});

Deno.test("a 3-step pipeline sends all three delivers before any answer returns", async () => {
  const { h, alice, bob, a } = await openPair();
  const car = far({ drive: () => "vroom" });
  const factory = far({ make: () => car });
  const swiss = bob.directory.swiss.publish(far({ factory: () => factory }));
  const start = h.transcript.length;
  const builder = a.fetch(swiss);
  const f = send(builder, "factory");
  const c = send(f, "make");
  const d = send(c, "drive");
  // Everything alice says is queued before bob has replied at all.
  assert.deepEqual(h.queue.map((w) => w.from), [
    "alice",
    "alice",
    "alice",
    "alice",
  ]);
  await h.settle();
  assert.equal(await d, "vroom");
  const labels = h.labels(start);
  assert.deepEqual(labels.slice(0, 4), Array(4).fill("alice: op:deliver"));
  assert.ok(labels.slice(4).every((l) => !l.startsWith("alice: op:deliver")));
  await finish(h, [alice, bob]);
});

Deno.test("op:abort breaks every unresolved promise and later sends reject at once", async () => {
  const { h, alice, bob, a, b } = await openPair();
  const swiss = bob.directory.swiss.publish(
    far({ never: () => new Promise(() => {}) }),
  );
  const obj = a.fetch(swiss);
  await h.settle();
  const pending = send(await obj, "never");
  await h.settle();
  b.abort("going away");
  await h.settle();
  await assert.rejects(
    pending,
    (e) => e instanceof SessionSeveredError && /going away/.test(e.message),
  );
  await assert.rejects(send(await obj, "never"), SessionSeveredError);
  assert.equal(a.state, "closed");
  await finish(h, [alice, bob]);
});

Deno.test("a closed connection breaks every promise of the session", async () => {
  const { h, alice, bob, a } = await openPair();
  const swiss = bob.directory.swiss.publish(
    far({ never: () => new Promise(() => {}) }),
  );
  const obj = await (async () => {
    const p = a.fetch(swiss);
    await h.settle();
    return p;
  })();
  const pending = send(obj, "never");
  a.connectionClosed("socket closed");
  await assert.rejects(pending, /socket closed/);
  await finish(h, [alice, bob]);
});

Deno.test("after severance a new session to the same peer can be made", async () => {
  const { h, alice, bob, a } = await openPair();
  const swiss = bob.directory.swiss.publish(far({ ping: () => "pong" }));
  a.abort("restart");
  await h.settle();
  const [a2] = h.connect(alice, bob);
  await h.settle();
  assert.equal(a2.state, "open");
  const obj = a2.fetch(swiss);
  await h.settle();
  const r = send(await obj, "ping");
  await h.settle();
  assert.equal(await r, "pong");
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(...h.sessions.filter((s) => s.state === "open"));
  await finish(h, [alice, bob]);
});

Deno.test("sessions that come and go leave the registry as it was", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const before = [alice, bob].map((v) => v.registry.stats());
  for (let i = 0; i < 20; i++) {
    const [a] = h.connect(alice, bob);
    await h.settle();
    assert.equal(a.state, "open");
    const p = a.fetch(Uint8Array.of(i)); // a question in flight when it ends
    a.abort(`done ${i}`);
    await h.settle();
    await assert.rejects(p, /done/);
  }
  assert.deepEqual([alice, bob].map((v) => v.registry.stats()), before);
  await finish(h, [alice, bob]);
});
