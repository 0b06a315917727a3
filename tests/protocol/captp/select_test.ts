import assert from "node:assert/strict";
import { assertTablesEmpty, far } from "./_harness.ts";
import {
  bytes,
  descAnswer,
  descExport,
  importObject,
  msg,
  RawPeer,
  sym,
} from "./_helpers.ts";
import { Tagged } from "../../../protocol/model.ts";
import { select } from "../../../protocol/captp/_select.ts";

/** Bob's `data` answers a struct holding a list holding a tagged struct. */
async function dataFixture() {
  const p = await RawPeer.open();
  p.bob.directory.swiss.publish(
    far({
      data: () => ({
        name: "n",
        list: ["a", new Tagged("point", { x: 3n, y: 4n }), "c"],
      }),
    }),
    "data",
  );
  // Answer 0 is the object, answer 1 its data; nothing has replied yet.
  p.say(
    msg("op:deliver", descExport(0), [sym("fetch"), bytes("data")], 0n, false),
    msg("op:deliver", descAnswer(0), [sym("data")], 1n, false),
  );
  return p;
}

const listen = (answer: number, resolver: number) =>
  msg("op:listen", descAnswer(answer), importObject(resolver));

const gcAnswers = (n: number) =>
  msg("op:gc-answers", [...Array(n).keys()].map(BigInt));

Deno.test("op:get, op:index and op:untag pipeline on answer positions before anything resolves", async () => {
  const p = await dataFixture();
  const replies = await p.exchange(
    msg("op:get", descAnswer(1), "list", 2n),
    msg("op:index", descAnswer(2), 1n, 3n),
    msg("op:untag", descAnswer(3), "point", 4n),
    msg("op:get", descAnswer(4), "y", 5n),
    listen(5, 7),
  );
  assert.deepEqual(replies, [
    "<op:deliver <desc:export 7> ['fulfill 4] false false>",
    "<op:gc-exports [7] [1]>",
  ]);
  assert.equal(p.b.stats().answers, 6);
  await p.exchange(gcAnswers(6));
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("op:get and op:untag accept a symbol as the field name or tag", async () => {
  const p = await dataFixture();
  const replies = await p.exchange(
    msg("op:get", descAnswer(1), sym("list"), 2n),
    msg("op:index", descAnswer(2), 1n, 3n),
    msg("op:untag", descAnswer(3), sym("point"), 4n),
    listen(4, 7),
  );
  assert.deepEqual(replies, [
    '<op:deliver <desc:export 7> [\'fulfill {"x": 3, "y": 4}] false false>',
    "<op:gc-exports [7] [1]>",
  ]);
  await p.exchange(gcAnswers(5));
  assertTablesEmpty(p.b);
  await p.done();
});

const broken = [
  `<op:deliver <desc:export 7> ['break <desc:error "Opaque error">] false false>`,
  "<op:gc-exports [7] [1]>",
];

const errorCases: [string, () => Uint8Array[]][] = [
  [
    "op:get of a missing field",
    () => [msg("op:get", descAnswer(1), "nope", 2n)],
  ],
  ["op:get of a list", () => [
    msg("op:get", descAnswer(1), "list", 9n),
    msg("op:get", descAnswer(9), "a", 2n),
  ]],
  ["op:index out of range", () => [
    msg("op:get", descAnswer(1), "list", 9n),
    msg("op:index", descAnswer(9), 3n, 2n),
  ]],
  ["op:index of a struct", () => [msg("op:index", descAnswer(1), 0n, 2n)]],
  ["op:untag with the wrong tag", () => [
    msg("op:get", descAnswer(1), "list", 8n),
    msg("op:index", descAnswer(8), 1n, 9n),
    msg("op:untag", descAnswer(9), "line", 2n),
  ]],
  ["op:untag of a string", () => [
    msg("op:get", descAnswer(1), "name", 9n),
    msg("op:untag", descAnswer(9), "point", 2n),
  ]],
];

for (const [what, input] of errorCases) {
  Deno.test(`${what} breaks the answer, and what pipelines on it, not the session`, async () => {
    const p = await dataFixture();
    const ops = input();
    assert.deepEqual(await p.exchange(...ops, listen(2, 7)), broken);
    // A message pipelined on the broken answer breaks too.
    assert.deepEqual(
      await p.exchange(msg("op:get", descAnswer(2), "x", 3n), listen(3, 7)),
      broken,
    );
    assert.equal(p.b.state, "open");
    // The session still works: the name is still there.
    assert.deepEqual(
      await p.exchange(msg("op:get", descAnswer(1), "name", 4n), listen(4, 7)),
      [
        `<op:deliver <desc:export 7> ['fulfill "n"] false false>`,
        "<op:gc-exports [7] [1]>",
      ],
    );
    const used = [0n, 1n, 2n, 3n, 4n, ...(ops.length > 1 ? [9n] : [])];
    if (ops.length > 2) used.push(8n);
    await p.exchange(msg("op:gc-answers", used));
    assertTablesEmpty(p.b);
    await p.done();
  });
}

Deno.test("op:index with a negative index aborts the session (a malformed field)", async () => {
  const p = await dataFixture();
  const replies = await p.exchange(msg("op:index", descAnswer(1), -1n, 2n));
  assert.match(replies[0], /^<op:abort ".*index must be a non-negative/);
  assert.equal(p.b.state, "closed");
  await p.done();
});

Deno.test("op:get on an unknown answer position aborts the session", async () => {
  const p = await dataFixture();
  const replies = await p.exchange(msg("op:get", descAnswer(5), "name", 2n));
  assert.deepEqual(replies, [
    `<op:abort "No answer at position 5">`,
    "(close)",
  ]);
  await p.done();
});

Deno.test("select() names the cause: missing field, index out of range, wrong tag", () => {
  const struct = { a: 1n };
  assert.equal(select("op:get", struct, "a"), 1n);
  assert.throws(() => select("op:get", struct, "b"), {
    name: "RangeError",
    message: /no field "b"/,
  });
  assert.throws(() => select("op:index", ["x"], 1), {
    name: "RangeError",
    message: /op:index 1 is out of range/,
  });
  assert.throws(() => select("op:untag", new Tagged("p", 1n), "q"), {
    name: "TypeError",
    message: /op:untag "q" does not match/,
  });
  assert.throws(() => select("op:get", new Map(), "a"), TypeError);
});
