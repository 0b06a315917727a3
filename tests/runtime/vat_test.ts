import assert from "node:assert/strict";
import { E, Vat, VatShutdownError } from "../../runtime/mod.ts";

function makeLog(vat: Vat) {
  const seen: unknown[] = [];
  const ref = vat.makeFar("Log", {
    push(x: unknown) {
      seen.push(x);
      return seen.length;
    },
  });
  return { seen, ref };
}

Deno.test("E() never runs the method synchronously", async () => {
  const vat = new Vat();
  let ran = false;
  const ref = vat.makeFar("Flag", { set: () => (ran = true) });
  const answer = E(ref).set();
  assert.equal(ran, false);
  assert.ok(answer instanceof Promise);
  assert.equal(await answer, true);
  assert.equal(ran, true);
});

Deno.test("a function reference is called directly with E(ref)(...args)", async () => {
  const vat = new Vat();
  const add = vat.makeFar("add", (a: number, b: number) => a + b);
  assert.equal(await E(add)(2, 3), 5);
  await assert.rejects(E(add).nope(), TypeError);
});

Deno.test("messages from one vat to one object arrive in the order sent", async () => {
  const alice = new Vat({ name: "alice" });
  const bob = new Vat({ name: "bob" });
  const { seen, ref } = makeLog(bob);
  const sender = alice.makeFar("Sender", {
    go(n: number) {
      for (let i = 0; i < n; i++) E.sendOnly(ref).push(i);
      return E(ref).push("done");
    },
  });
  assert.equal(await E(sender).go(100), 101);
  assert.deepEqual(seen, [...Array(100).keys(), "done"]);
});

Deno.test("a turn runs to completion before the next turn in that vat", async () => {
  const vat = new Vat();
  const trace: string[] = [];
  const a = vat.makeFar("A", {
    work(tag: string) {
      trace.push(`${tag}:start`);
      for (let i = 0; i < 1000; i++) if (i === 500) E.sendOnly(b).poke(tag);
      trace.push(`${tag}:end`);
    },
  });
  const b = vat.makeFar("B", {
    poke: (tag: string) => trace.push(`poke:${tag}`),
  });
  await Promise.all([E(a).work("x"), E(a).work("y")]);
  await vat.whenIdle();
  assert.deepEqual(trace, [
    "x:start",
    "x:end",
    "y:start",
    "y:end",
    "poke:x",
    "poke:y",
  ]);
});

Deno.test("an error thrown in a turn breaks that answer and leaves the object working", async () => {
  const vat = new Vat();
  let count = 0;
  const ref = vat.makeFar("Fragile", {
    incr: () => ++count,
    fail(why: string) {
      throw new RangeError(`Refused "${why}"`);
    },
  });
  await assert.rejects(E(ref).fail("x"), {
    name: "RangeError",
    message: 'Refused "x"',
  });
  assert.equal(await E(ref).incr(), 1);
  await assert.rejects(E(ref).missing(), {
    name: "TypeError",
    message: 'Method "missing" not found on "Fragile"',
  });
  await assert.rejects(E(ref)["hasOwnProperty" as string](), TypeError);
  assert.equal(await E(ref).incr(), 2);
  assert.equal(vat.stats().errors, 3);
});

Deno.test("an async method's answer waits for its promise", async () => {
  const vat = new Vat();
  const inner = vat.makePromiseKit<string>();
  const ref = vat.makeFar("Slow", { wait: () => inner.promise });
  const answer = E(ref).wait();
  await vat.whenIdle();
  assert.equal(vat.stats().awaiting, 1);
  inner.resolve("ready");
  assert.equal(await answer, "ready");
  assert.equal(vat.stats().awaiting, 0);
});

Deno.test("a throwing send-only turn goes to onError", async () => {
  const errors: string[] = [];
  const vat = new Vat({
    name: "v",
    onError: (e, info) =>
      errors.push(`${info.vat}.${info.method}: ${(e as Error).message}`),
  });
  const ref = vat.makeFar("X", {
    boom() {
      throw new Error("Bang");
    },
  });
  assert.equal(E.sendOnly(ref).boom(), undefined);
  await vat.whenIdle();
  assert.deepEqual(errors, ["v.boom: Bang"]);
});

Deno.test("whenIdle() and stats() report the queue", async () => {
  const vat = new Vat({ name: "counted" });
  const { seen, ref } = makeLog(vat);
  for (let i = 0; i < 5; i++) E.sendOnly(ref).push(i);
  assert.equal(vat.stats().queued, 5);
  await vat.whenIdle();
  assert.deepEqual(vat.stats(), {
    name: "counted",
    queued: 0,
    delivered: 5,
    errors: 0,
    awaiting: 0,
    promises: 0,
    shutdown: false,
  });
  assert.equal(seen.length, 5);
  await vat.whenIdle();
});

Deno.test("shutdown() breaks queued, awaited and kit promises with VatShutdownError", async () => {
  const vat = new Vat({ name: "doomed" });
  const never = vat.makePromiseKit<void>();
  const ref = vat.makeFar("R", {
    hang: () => never.promise,
    ping: () => "pong",
  });
  const awaited = E(ref).hang();
  await vat.whenIdle();
  const queued = E(ref).ping();
  vat.shutdown("test over");
  vat.shutdown("again");
  for (const p of [awaited, queued, never.promise]) {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof VatShutdownError);
      assert.equal(e.code, "VAT_SHUTDOWN");
      assert.equal(e.message, 'Vat "doomed" shut down: test over');
      return true;
    });
  }
  await assert.rejects(E(ref).ping(), VatShutdownError);
  assert.equal(E.sendOnly(ref).ping(), undefined);
  assert.deepEqual(
    { ...vat.stats(), name: undefined },
    {
      name: undefined,
      queued: 0,
      delivered: 1,
      errors: 0,
      awaiting: 0,
      promises: 0,
      shutdown: true,
    },
  );
  await vat.whenIdle();
});

Deno.test("shutdown() during a turn stops the rest of the batch", async () => {
  const vat = new Vat();
  const ran: number[] = [];
  const ref = vat.makeFar("R", {
    step(i: number) {
      ran.push(i);
      if (i === 1) vat.shutdown("enough");
    },
  });
  const answers = [0, 1, 2, 3].map((i) => E(ref).step(i));
  const results = await Promise.allSettled(answers);
  assert.deepEqual(ran, [0, 1]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "rejected",
    "rejected",
  ]);
});

Deno.test("E() of a non-reference rejects with a TypeError", async () => {
  await assert.rejects(E(42).foo(), {
    name: "TypeError",
    message: 'Cannot send "foo" to a non-reference "42"',
  });
  await assert.rejects(E({ foo() {} }).foo(), TypeError);
  assert.equal((E(42) as Record<string, unknown>).then, undefined);
});

Deno.test("makeFar() refuses a behaviour that is not an object or function", () => {
  const vat = new Vat();
  assert.throws(() => vat.makeFar("Bad", 3 as never), TypeError);
  const ref = vat.makeFar("Good", {});
  assert.ok(Object.isFrozen(ref));
  assert.equal(Object.keys(ref).length, 0);
});
