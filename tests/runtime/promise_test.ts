import assert from "node:assert/strict";
import { E, makePromiseKit, Vat } from "../../runtime/mod.ts";

function makeRecorder(vat: Vat, name: string) {
  const seen: string[] = [];
  const ref = vat.makeFar(name, {
    note(x: string) {
      seen.push(x);
      return `${name}:${x}`;
    },
  });
  return { seen, ref };
}

Deno.test("messages to an unresolved promise queue and deliver in order on resolve", async () => {
  const vat = new Vat();
  const { seen, ref } = makeRecorder(vat, "rec");
  const kit = makePromiseKit<unknown>();
  const answers = ["a", "b", "c"].map((x) => E(kit.promise).note(x));
  E.sendOnly(kit.promise).note("d");
  await vat.whenIdle();
  assert.deepEqual(seen, []);
  kit.resolve(ref);
  assert.deepEqual(await Promise.all(answers), ["rec:a", "rec:b", "rec:c"]);
  await vat.whenIdle();
  assert.deepEqual(seen, ["a", "b", "c", "d"]);
  assert.equal(await E(kit.promise).note("e"), "rec:e");
});

Deno.test("a pipelined call goes to the answer of an earlier call before it resolves", async () => {
  const alice = new Vat({ name: "alice" });
  const bob = new Vat({ name: "bob" });
  const { ref: carol } = makeRecorder(bob, "carol");
  const trace: string[] = [];
  const directory = bob.makeFar("Directory", {
    lookup(name: string) {
      trace.push(`lookup ${name}`);
      return name === "carol" ? carol : undefined;
    },
  });
  const client = alice.makeFar("Client", {
    run() {
      const found = E(directory).lookup("carol");
      trace.push("sent both");
      return E(found).note("hi");
    },
  });
  assert.equal(await E(client).run(), "carol:hi");
  assert.deepEqual(trace, ["sent both", "lookup carol"]);
});

Deno.test("resolving to another promise forwards queued and later messages", async () => {
  const vat = new Vat();
  const { ref } = makeRecorder(vat, "rec");
  const outer = makePromiseKit<unknown>();
  const inner = makePromiseKit<unknown>();
  const early = E(outer.promise).note("early");
  outer.resolve(inner.promise);
  const late = E(outer.promise).note("late");
  inner.resolve(ref);
  assert.deepEqual(await Promise.all([early, late]), ["rec:early", "rec:late"]);
});

Deno.test("a broken promise breaks its queued messages with the same reason", async () => {
  const kit = makePromiseKit<unknown>();
  const reason = new Error("Lost");
  const answers = [E(kit.promise).a(), E(kit.promise).b()];
  E.sendOnly(kit.promise).c();
  kit.reject(reason);
  for (const answer of answers) {
    await assert.rejects(answer, (e) => e === reason);
  }
  await assert.rejects(E(kit.promise).later(), (e) => e === reason);
  await assert.rejects(kit.promise, (e) => e === reason);
});

Deno.test("breakage propagates through a chain of pipelined calls", async () => {
  const vat = new Vat();
  const ref = vat.makeFar("Failing", {
    next() {
      throw new Error("Nope");
    },
  });
  const first = E(ref).next();
  const second = E(first).next();
  const third = E(second).next();
  for (const p of [first, second, third]) {
    await assert.rejects(p, { message: "Nope" });
  }
});

Deno.test("a plain JS promise also takes messages once it settles", async () => {
  const vat = new Vat();
  const { ref } = makeRecorder(vat, "rec");
  const plain = Promise.resolve().then(() => ref);
  assert.equal(await E(plain).note("x"), "rec:x");
  await assert.rejects(E(Promise.reject(new Error("Gone"))).note("y"), {
    message: "Gone",
  });
});

Deno.test("a kit resolves once and refuses to resolve to itself", async () => {
  const kit = makePromiseKit<unknown>();
  kit.resolve(kit.promise);
  kit.resolve(1);
  await assert.rejects(kit.promise, TypeError);
  const other = makePromiseKit<number>();
  const { resolve, reject } = other;
  resolve(7);
  reject(new Error("late"));
  assert.equal(await other.promise, 7);
});

Deno.test("a send to a promise resolved to data rejects with a TypeError", async () => {
  const kit = makePromiseKit<unknown>();
  const answer = E(kit.promise).shout();
  kit.resolve("just a string");
  await assert.rejects(answer, TypeError);
});
