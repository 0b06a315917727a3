import assert from "node:assert/strict";
import {
  assertTablesEmpty,
  far,
  finish,
  Harness,
  makeVat,
} from "./_harness.ts";
import {
  bytes,
  descAnswer,
  descExport,
  importObject,
  msg,
  RawPeer,
  settleWire,
  showBytes,
  sym,
} from "./_helpers.ts";
import {
  GC_INTERVAL_MS,
  MAX_PACED_RELEASES,
} from "../../../protocol/captp/imports.ts";
import type { DialectName } from "../../../protocol/captp/_wire.ts";
import type { SyrupValue } from "../../../protocol/syrup/value.ts";

/** The raw peer holds bob's object as import 1 and answer 0 is live. */
async function exported() {
  const p = await RawPeer.open();
  const thing = far({ twice: () => [thing, thing] });
  p.bob.directory.swiss.publish(thing, "thing");
  const replies = await p.exchange(
    msg(
      "op:deliver",
      descExport(0),
      [sym("fetch"), bytes("thing")],
      0n,
      importObject(4),
    ),
  );
  assert.deepEqual(replies, [
    "<op:deliver <desc:export 4> ['fulfill <desc:import-object 1>] false false>",
    "<op:gc-exports [4] [1]>",
  ]);
  assert.deepEqual(p.b.stats(), {
    exports: 1,
    imports: 0,
    questions: 0,
    answers: 1,
  });
  return p;
}

const inputs: [string, SyrupValue[], SyrupValue[]][] = [
  ["plural", [[1n], [1n]], [[0n]]],
  ["singular", [[1n], [1n]], [[0n]]],
  ["scalar", [1n, 1n], [0n]],
];

for (const [style, exportsFields, answersFields] of inputs) {
  const suffix = style === "plural" ? "s" : "";
  Deno.test(`a peer's ${style} op:gc-export${suffix} and op:gc-answer${suffix} free our export and answer`, async () => {
    const p = await exported();
    assert.deepEqual(
      await p.exchange(
        msg(`op:gc-export${suffix}`, ...exportsFields),
        msg(`op:gc-answer${suffix}`, ...answersFields),
      ),
      [],
    );
    assert.equal(p.b.state, "open");
    assertTablesEmpty(p.b);
    await p.done();
  });
}

Deno.test("an export sent twice is freed only when the deltas add up to two", async () => {
  const p = await exported();
  await p.exchange(
    msg("op:deliver", descExport(1), [sym("twice")], 1n, false),
    msg("op:gc-answers", [0n]),
  );
  const replies = await p.exchange(
    msg("op:listen", descAnswer(1), importObject(4)),
  );
  assert.equal(
    replies[0],
    "<op:deliver <desc:export 4> ['fulfill [<desc:import-object 1> <desc:import-object 1>]] false false>",
  );
  await p.exchange(
    msg("op:gc-answers", [1n]),
    msg("op:gc-exports", [1n], [2n]),
  );
  assert.equal(p.b.stats().exports, 1); // fetch sent one, twice sent two
  await p.exchange(msg("op:gc-exports", [1n], [1n]));
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("a wire delta larger than what we sent aborts the session", async () => {
  const p = await exported();
  const replies = await p.exchange(msg("op:gc-exports", [1n], [2n]));
  assert.deepEqual(replies, [
    `<op:abort "op:gc-exports: bad position or delta at 1">`,
    "(close)",
  ]);
  await p.done();
});

const emitted: [DialectName, string, string][] = [
  ["draft", "<op:gc-exports [1] [1]>", "<op:gc-answers [0]>"],
  ["suite-rod", "<op:gc-export [1] [1]>", "<op:gc-answer [0]>"],
  ["suite-refs", "<op:gc-export 1 1>", "<op:gc-answer 0>"],
];

for (const [dialect, gcExports, gcAnswers] of emitted) {
  Deno.test(`the ${dialect} dialect emits ${gcExports} and ${gcAnswers}`, async () => {
    const h = new Harness();
    const alice = makeVat("alice");
    const bob = makeVat("bob");
    const [a, b] = h.connect(alice, bob, { dialect });
    await h.settle();
    bob.directory.swiss.publish(far({ hi: () => "hi" }), "obj");
    const log: string[] = [];
    const obj = a.fetch(bytes("obj"));
    await settleWire(h, log);
    await obj;
    alice.finalizer.collectAll();
    await settleWire(h, log);
    const gc = log.filter((l) => l.includes("op:gc-"));
    assert.deepEqual(gc, [
      `bob: ${gcExports}`, // alice's resolver
      `alice: ${gcAnswers}`,
      `alice: ${gcExports}`, // bob's object
    ]);
    assertTablesEmpty(a, b);
    await finish(h, [alice, bob]);
  });
}

/**
 * A raw peer whose bob publishes an object as "thing", and the fetch of it
 * with answer position `answer` and resolver `resolver` (the raw peer's
 * export, bob's import).
 */
async function thingPeer() {
  const p = await RawPeer.open();
  p.bob.directory.swiss.publish(far({}), "thing");
  const fetch = (answer: bigint, resolver: number) =>
    msg(
      "op:deliver",
      descExport(0),
      [sym("fetch"), bytes("thing")],
      answer,
      importObject(resolver),
    );
  return { p, fetch };
}

/** What bob has written to the raw peer so far, without letting time pass. */
async function written(p: RawPeer): Promise<string[]> {
  await p.h.ticks();
  const out = p.h.queue.map((w) => w.bytes ? showBytes(w.bytes) : "(close)");
  p.h.queue.length = 0;
  return out;
}

Deno.test("GC messages are paced: releases within one GC interval leave together at its end", async () => {
  const { p, fetch } = await thingPeer();
  const fulfilled = (resolver: number) =>
    `<op:deliver <desc:export ${resolver}> ['fulfill <desc:import-object 1>] false false>`;
  // After a quiet interval the first release leaves at the end of its turn.
  p.say(fetch(0n, 4));
  assert.deepEqual(await written(p), [fulfilled(4), "<op:gc-exports [4] [1]>"]);
  // Within the interval the answers still go at once; the releases wait.
  p.say(fetch(1n, 5));
  assert.deepEqual(await written(p), [fulfilled(5)]);
  p.say(fetch(2n, 6));
  assert.deepEqual(await written(p), [fulfilled(6)]);
  p.h.clock.advance(GC_INTERVAL_MS - 0.5);
  assert.deepEqual(await written(p), []);
  p.h.clock.advance(0.5);
  assert.deepEqual(await written(p), ["<op:gc-exports [5 6] [1 1]>"]);
  assert.deepEqual(
    await p.exchange(
      msg("op:gc-answers", [0n, 1n, 2n]),
      msg("op:gc-exports", [1n], [3n]),
    ),
    [],
  );
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("a GC flush still waiting for its interval is cancelled when the session closes", async () => {
  const { p, fetch } = await thingPeer();
  for (const [answer, resolver] of [[0n, 4], [1n, 5]] as const) {
    p.say(fetch(answer, resolver));
    await written(p);
  }
  assert.equal(p.h.clock.pending, 1); // resolver 5's release, waiting
  p.b.abort("test over");
  assert.equal(p.h.clock.pending, 0);
  p.h.clock.advance(GC_INTERVAL_MS);
  const after = await written(p);
  assert.equal(after.some((m) => m.includes("op:gc-")), false, `${after}`);
  await p.done();
});

Deno.test("releases held back by the pacing leave without waiting once MAX_PACED_RELEASES are held", async () => {
  const { p, fetch } = await thingPeer();
  const gc: string[] = [];
  const calls = MAX_PACED_RELEASES + 4;
  for (let i = 0; i < calls; i++) {
    p.say(fetch(BigInt(i), 100 + i));
    gc.push(...(await written(p)).filter((m) => m.includes("op:gc-")));
  }
  // The clock never moved: the first release left at once, and the next
  // ones left together when the limit was reached, not at the interval.
  const batch = Array.from(
    { length: MAX_PACED_RELEASES },
    (_, i) => 101 + i,
  );
  assert.deepEqual(gc, [
    "<op:gc-exports [100] [1]>",
    `<op:gc-exports [${batch.join(" ")}] [${batch.map(() => 1).join(" ")}]>`,
  ]);
  p.h.clock.advance(GC_INTERVAL_MS);
  const rest = Array.from(
    { length: calls - 1 - MAX_PACED_RELEASES },
    (_, i) => 101 + MAX_PACED_RELEASES + i,
  );
  assert.deepEqual(await written(p), [
    `<op:gc-exports [${rest.join(" ")}] [${rest.map(() => 1).join(" ")}]>`,
  ]);
  await p.exchange(
    msg("op:gc-answers", Array.from({ length: calls }, (_, i) => BigInt(i))),
    msg("op:gc-exports", [1n], [BigInt(calls)]),
  );
  assertTablesEmpty(p.b);
  await p.done();
});
