import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
  send,
  sendOnly,
} from "./_harness.ts";
import {
  bytes,
  descAnswer,
  descExport,
  importObject,
  msg,
  RawPeer,
  settleWire,
  sym,
} from "./_helpers.ts";
import type { DialectName } from "../../../protocol/captp/_wire.ts";

/** Alice holds bob's greeter (fetched under the swiss number "greeter"). */
async function greeterPair(dialect?: DialectName) {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a, b] = h.connect(alice, bob, { dialect });
  await h.settle();
  const pings: string[] = [];
  bob.directory.swiss.publish(
    far({
      greet: (n: string) => `hi ${n}`,
      ping: (n = "") => void pings.push(n),
    }),
    "greeter",
  );
  const fetched = a.fetch(bytes("greeter"));
  const log: string[] = [];
  await settleWire(h, log);
  return { h, alice, bob, a, b, pings, log, greeter: await fetched };
}

Deno.test("a call sends op:deliver with an answer position and a resolver, and gets one resolution", async () => {
  const { h, alice, bob, a, b, greeter, log } = await greeterPair();
  assert.deepEqual(log, [
    `alice: <op:deliver <desc:export 0> ['fetch b"greeter"] 0 <desc:import-object 1>>`,
    "bob: <op:deliver <desc:export 1> ['fulfill <desc:import-object 1>] false false>",
    "bob: <op:gc-exports [1] [1]>",
    "alice: <op:gc-answers [0]>",
  ]);
  log.length = 0;
  const answer = send(greeter, "greet", "alice");
  await settleWire(h, log);
  assert.equal(await answer, "hi alice");
  // The answer position 0 is free again (gc-answers came first), and so is
  // alice's resolver export 1 (bob's gc-exports for it).
  assert.deepEqual(log, [
    `alice: <op:deliver <desc:export 1> ['greet "alice"] 0 <desc:import-object 1>>`,
    `bob: <op:deliver <desc:export 1> ['fulfill "hi alice"] false false>`,
    "bob: <op:gc-exports [1] [1]>",
    "alice: <op:gc-answers [0]>",
  ]);
  assert.deepEqual(a.stats(), {
    exports: 0,
    imports: 1,
    questions: 0,
    answers: 0,
  });
  alice.finalizer.collectAll();
  await h.settle();
  assertTablesEmpty(a, b);
  await finish(h, [alice, bob]);
});

Deno.test("a send-only is op:deliver with false false and bob answers nothing", async () => {
  const { h, alice, bob, greeter, pings, log } = await greeterPair();
  log.length = 0;
  sendOnly(greeter, "ping", "x");
  await settleWire(h, log);
  assert.deepEqual(log, [
    `alice: <op:deliver <desc:export 1> ['ping "x"] false false>`,
  ]);
  assert.deepEqual(pings, ["x"]);
  alice.finalizer.collectAll();
  await h.settle();
  await finish(h, [alice, bob]);
});

Deno.test("the suite-refs dialect sends resolutions as op:deliver-only and GC as scalars", async () => {
  const { h, alice, bob, greeter, log } = await greeterPair("suite-refs");
  log.length = 0;
  const answer = send(greeter, "greet", "alice");
  await settleWire(h, log);
  assert.equal(await answer, "hi alice");
  assert.deepEqual(log, [
    `alice: <op:deliver <desc:export 1> ['greet "alice"] 0 <desc:import-object 1>>`,
    `bob: <op:deliver-only <desc:export 1> ['fulfill "hi alice"]>`,
    "bob: <op:gc-export 1 1>",
    "alice: <op:gc-answer 0>",
  ]);
  alice.finalizer.collectAll();
  await h.settle();
  await finish(h, [alice, bob]);
});

Deno.test({
  name: "the suite-refs dialect sends a vat's send-only as op:deliver-only",
  fn: async () => {
    const { h, alice, bob, greeter, pings, log } = await greeterPair(
      "suite-refs",
    );
    log.length = 0;
    sendOnly(greeter, "ping", "x");
    await settleWire(h, log);
    assert.deepEqual(log, [
      `alice: <op:deliver-only <desc:export 1> ['ping "x"]>`,
    ]);
    assert.deepEqual(pings, ["x"]);
    alice.finalizer.collectAll();
    await h.settle();
    await finish(h, [alice, bob]);
  },
});

Deno.test("an incoming op:deliver with an answer position and no resolver answers silently", async () => {
  const p = await RawPeer.open();
  const pings: string[] = [];
  p.bob.directory.swiss.publish(
    far({
      greet: (n: string) => `hi ${n}`,
      ping: (n: string) => pings.push(n),
    }),
    "greeter",
  );
  const fetch = [sym("fetch"), bytes("greeter")];
  assert.deepEqual(
    await p.exchange(msg("op:deliver", descExport(0), fetch, 0n, false)),
    [],
  );
  assert.equal(p.b.stats().answers, 1);
  // The answer is usable as a target at once (pipelining on bob's side).
  assert.deepEqual(
    await p.exchange(
      msg(
        "op:deliver",
        descAnswer(0),
        [sym("greet"), "m"],
        false,
        importObject(3),
      ),
    ),
    [
      `<op:deliver <desc:export 3> ['fulfill "hi m"] false false>`,
      "<op:gc-exports [3] [1]>",
    ],
  );
  assert.deepEqual(
    await p.exchange(
      msg("op:deliver", descAnswer(0), [sym("ping"), "n"], false, false),
    ),
    [],
  );
  assert.deepEqual(pings, ["n"]);
  assert.deepEqual(await p.exchange(msg("op:gc-answers", [0n])), []);
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("an incoming op:deliver-only is folded into op:deliver false false", async () => {
  const p = await RawPeer.open();
  const pings: string[] = [];
  p.bob.directory.swiss.publish(
    far({ ping: (n: string) => pings.push(n) }),
    "pinger",
  );
  await p.exchange(
    msg(
      "op:deliver",
      descExport(0),
      [sym("fetch"), bytes("pinger")],
      0n,
      false,
    ),
  );
  assert.deepEqual(
    await p.exchange(msg("op:deliver-only", descAnswer(0), [sym("ping"), "o"])),
    [],
  );
  assert.deepEqual(pings, ["o"]);
  await p.exchange(msg("op:gc-answers", [0n]));
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("an incoming op:deliver reusing a live answer position aborts the session", async () => {
  const p = await RawPeer.open();
  const fetch = [sym("fetch"), bytes("nobody")];
  p.say(msg("op:deliver", descExport(0), fetch, 4n, false));
  const replies = await p.exchange(
    msg("op:deliver", descExport(0), fetch, 4n, false),
  );
  assert.deepEqual(replies, [
    `<op:abort "Answer position 4 is already in use">`,
    "(close)",
  ]);
  assert.equal(p.b.state, "closed");
  await p.done();
});

Deno.test("a resolution delivered with an answer position leaves an answer there", async () => {
  const p = await RawPeer.open();
  p.bob.directory.swiss.publish(
    far({ ask: (ref: unknown) => send(ref, "hello") }),
    "asker",
  );
  const fetch = [sym("fetch"), bytes("asker")];
  await p.exchange(msg("op:deliver", descExport(0), fetch, 0n, false));
  // Bob asks the raw peer's export 5 a question: answer 0, resolver 1.
  assert.deepEqual(
    await p.exchange(
      msg("op:deliver-only", descAnswer(0), [sym("ask"), importObject(5)]),
    ),
    ["<op:deliver <desc:export 5> ['hello] 0 <desc:import-object 1>>"],
  );
  // The resolution comes with answer position 7, which is then used.
  assert.deepEqual(
    await p.exchange(
      msg("op:deliver", descExport(1), [sym("fulfill"), "hi"], 7n, false),
      msg("op:listen", descAnswer(7), importObject(6)),
    ),
    [
      "<op:gc-answers [0]>",
      "<op:deliver <desc:export 6> ['fulfill <void>] false false>",
      "<op:gc-exports [6] [1]>",
    ],
  );
  assert.equal(p.b.state, "open");
  p.bob.finalizer.collectAll();
  assert.deepEqual(await p.replies(), ["<op:gc-exports [5] [1]>"]);
  assert.deepEqual(
    await p.exchange(
      msg("op:gc-exports", [1n], [1n]),
      msg("op:gc-answers", [0n, 7n]),
    ),
    [],
  );
  assertTablesEmpty(p.b);
  await p.done();
});
