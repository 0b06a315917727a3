import assert from "node:assert/strict";
import {
  classify,
  deliver,
  E,
  makePromiseKit,
  makeRemotePresence,
  makeRemotePromise,
  type RemoteHandler,
  Vat,
} from "../../runtime/mod.ts";

/** A stand-in for CapTP: records what would go on the wire. */
function fakeHandler(name: string) {
  const wire: string[] = [];
  const answers: ReturnType<typeof makeRemotePromise<unknown>>[] = [];
  const label = (t: object) =>
    classify(t).kind === "remote-promise" ? `${name}-answer` : name;
  const handler: RemoteHandler = {
    applyMethod(target, method, args) {
      wire.push(
        `deliver ${label(target)}.${method ?? "()"}(${args.join(",")})`,
      );
      const answer = makeRemotePromise<unknown>(handler);
      answers.push(answer);
      return answer.promise;
    },
    sendOnly(target, method, args) {
      wire.push(
        `deliver-only ${label(target)}.${method ?? "()"}(${args.join(",")})`,
      );
    },
    get(target, field) {
      wire.push(`get ${label(target)}.${field}`);
      return Promise.resolve(`field ${field}`);
    },
  };
  return { wire, answers, handler };
}

Deno.test("E() on a remote presence goes to its handler", async () => {
  const { wire, answers, handler } = fakeHandler("bob");
  const bob = makeRemotePresence(handler, "Bob");
  const answer = E(bob).greet("hi");
  E.sendOnly(bob).poke(1);
  E(bob)(2);
  assert.deepEqual(wire, [
    "deliver bob.greet(hi)",
    "deliver-only bob.poke(1)",
    "deliver bob.()(2)",
  ]);
  answers[0].resolve("hello");
  assert.equal(await answer, "hello");
  assert.equal(await E.get(bob).name, "field name");
  for (const a of answers.slice(1)) a.resolve(undefined);
});

Deno.test("messages to an unresolved remote promise go to its handler (wire pipelining)", async () => {
  const { wire, answers, handler } = fakeHandler("bob");
  const bob = makeRemotePresence(handler);
  const carol = E(bob).getCarol();
  const pipelined = E(carol).hello("x");
  assert.deepEqual(wire, [
    "deliver bob.getCarol()",
    "deliver bob-answer.hello(x)",
  ]);
  answers[1].resolve("hi from carol");
  assert.equal(await pipelined, "hi from carol");
  answers[0].resolve(undefined);
});

Deno.test("after a remote promise resolves, messages go to what it resolved to", async () => {
  const vat = new Vat();
  const { wire, handler } = fakeHandler("bob");
  const local = vat.makeFar("Local", { echo: (x: string) => `local ${x}` });
  const kit = makeRemotePromise<unknown>(handler);
  kit.resolve(local);
  assert.equal(await E(kit.promise).echo("a"), "local a");
  assert.deepEqual(wire, []);
  assert.deepEqual(classify(kit.promise), {
    kind: "remote-promise",
    handler,
    state: "resolved",
  });
});

Deno.test("a local method returning a remote promise keeps pipelining through its answer", async () => {
  const vat = new Vat();
  const { wire, answers, handler } = fakeHandler("bob");
  const bob = makeRemotePresence(handler);
  const proxy = vat.makeFar("Proxy", { fetch: () => E(bob).getCarol() });
  const carol = E(proxy).fetch();
  await vat.whenIdle();
  const hello = E(carol).hello();
  assert.deepEqual(wire, [
    "deliver bob.getCarol()",
    "deliver bob-answer.hello()",
  ]);
  answers[1].resolve("hello");
  assert.equal(await hello, "hello");
  answers[0].resolve("carol");
  assert.equal(await carol, "carol");
});

Deno.test("a local promise forwarded to a remote promise sends its queue to the handler", async () => {
  const { wire, answers, handler } = fakeHandler("bob");
  const remote = makeRemotePromise<unknown>(handler);
  const kit = makePromiseKit<unknown>();
  const answer = E(kit.promise).ping();
  assert.deepEqual(wire, []);
  kit.resolve(remote.promise);
  assert.deepEqual(wire, ["deliver bob-answer.ping()"]);
  answers[0].resolve("pong");
  assert.equal(await answer, "pong");
  remote.resolve(undefined);
});

Deno.test("a handler that throws synchronously yields a rejected answer", async () => {
  const handler: RemoteHandler = {
    applyMethod() {
      throw new Error("Severed");
    },
    sendOnly() {},
  };
  const ref = makeRemotePresence(handler);
  await assert.rejects(E(ref).x(), { message: "Severed" });
  await assert.rejects(E.get(ref).y, TypeError);
});

Deno.test("classify() tells references, presences, promises and data apart", () => {
  const vat = new Vat({ name: "v" });
  const { handler } = fakeHandler("bob");
  const ref = vat.makeFar("Thing", {});
  const presence = makeRemotePresence(handler, "Remote");
  const remote = makeRemotePromise<unknown>(handler);
  assert.deepEqual(classify(ref), {
    kind: "local-reference",
    vat,
    iface: "Thing",
  });
  assert.deepEqual(classify(presence), {
    kind: "remote-presence",
    handler,
    iface: "Remote",
  });
  assert.deepEqual(classify(remote.promise), {
    kind: "remote-promise",
    handler,
    state: "unresolved",
  });
  assert.deepEqual(classify(makePromiseKit().promise), {
    kind: "local-promise",
  });
  assert.deepEqual(classify(Promise.resolve(1)), { kind: "local-promise" });
  for (
    const data of [1n, "s", null, undefined, [ref], new Map(), Symbol.for("x")]
  ) {
    assert.deepEqual(classify(data), { kind: "data" });
  }
  assert.deepEqual(classify(Object.create(ref)), { kind: "data" });
});

Deno.test("deliver() is the single dispatch for method and function sends", async () => {
  const vat = new Vat();
  const obj = vat.makeFar("Obj", { twice: (n: number) => 2 * n });
  const fn = vat.makeFar("fn", (n: number) => n + 1);
  assert.equal(await deliver(obj, "twice", [4]), 8);
  assert.equal(await deliver(fn, undefined, [4]), 5);
  await assert.rejects(deliver(obj, undefined, []), {
    message: 'Reference "Obj" is not callable',
  });
});

Deno.test("E.get() reads a field of local data and refuses a local reference", async () => {
  const vat = new Vat();
  assert.equal(await E.get(Promise.resolve({ a: 1 })).a, 1);
  await assert.rejects(E.get(vat.makeFar("R", {})).a, TypeError);
  assert.equal(await E.when(Promise.resolve(2), (n) => n * 3), 6);
});
