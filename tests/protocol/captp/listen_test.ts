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

/**
 * Bob publishes an object whose `later` answers a promise the test
 * settles; the raw peer fetches it into answer position 0.
 */
async function listenFixture() {
  const p = await RawPeer.open();
  const later = Promise.withResolvers<unknown>();
  const pings: string[] = [];
  p.bob.directory.swiss.publish(
    far({
      now: () => 42n,
      later: () => later.promise,
      ping: (n: string) => pings.push(n),
    }),
    "obj",
  );
  await p.exchange(
    msg("op:deliver", descExport(0), [sym("fetch"), bytes("obj")], 0n, false),
  );
  return { p, later, pings };
}

const fulfilled = (pos: number, value: string) => [
  `<op:deliver <desc:export ${pos}> ['fulfill ${value}] false false>`,
  `<op:gc-exports [${pos}] [1]>`,
];

for (const fields of [2, 3] as const) {
  const listen = (answer: number, resolver: number) =>
    fields === 2
      ? msg("op:listen", descAnswer(answer), importObject(resolver))
      : msg("op:listen", descAnswer(answer), importObject(resolver), false);

  Deno.test(`op:listen with ${fields} fields on an already-resolved answer fires once`, async () => {
    const { p, pings } = await listenFixture();
    await p.exchange(msg("op:deliver", descAnswer(0), [sym("now")], 1n, false));
    assert.deepEqual(await p.exchange(listen(1, 5)), fulfilled(5, "42"));
    // Later traffic does not make the listener fire again.
    assert.deepEqual(
      await p.exchange(
        msg("op:deliver", descAnswer(0), [sym("ping"), "x"], false, false),
      ),
      [],
    );
    assert.deepEqual(pings, ["x"]);
    await p.exchange(msg("op:gc-answers", [0n, 1n]));
    assertTablesEmpty(p.b);
    await p.done();
  });

  Deno.test(`op:listen with ${fields} fields on a later-resolved answer fires once, on resolution`, async () => {
    const { p, later } = await listenFixture();
    await p.exchange(
      msg("op:deliver", descAnswer(0), [sym("later")], 1n, false),
    );
    assert.deepEqual(await p.exchange(listen(1, 5), listen(1, 6)), []);
    later.resolve("done");
    assert.deepEqual(await p.replies(), [
      `<op:deliver <desc:export 5> ['fulfill "done"] false false>`,
      `<op:deliver <desc:export 6> ['fulfill "done"] false false>`,
      "<op:gc-exports [5 6] [1 1]>",
    ]);
    assert.deepEqual(await p.replies(), []);
    await p.exchange(msg("op:gc-answers", [0n, 1n]));
    assertTablesEmpty(p.b);
    await p.done();
  });

  Deno.test(`op:listen with ${fields} fields reports a break once, with an opaque error`, async () => {
    const { p, later } = await listenFixture();
    await p.exchange(
      msg("op:deliver", descAnswer(0), [sym("later")], 1n, false),
    );
    assert.deepEqual(await p.exchange(listen(1, 5)), []);
    later.reject(new Error("a secret"));
    assert.deepEqual(await p.replies(), [
      `<op:deliver <desc:export 5> ['break <desc:error "Opaque error">] false false>`,
      "<op:gc-exports [5] [1]>",
    ]);
    assert.deepEqual(await p.replies(), []);
    await p.exchange(msg("op:gc-answers", [0n, 1n]));
    assertTablesEmpty(p.b);
    await p.done();
  });
}

Deno.test("op:listen on an export that is an object fulfills with the object itself", async () => {
  const { p } = await listenFixture();
  // Bob exports the object to us as the answer of a question with resolver.
  assert.deepEqual(
    await p.exchange(
      msg("op:deliver", descAnswer(0), [sym("ping"), "y"], false, false),
      msg("op:listen", descAnswer(0), importObject(9), true),
    ),
    fulfilled(9, "<desc:import-object 1>"),
  );
  assert.deepEqual(
    await p.exchange(msg("op:listen", descExport(1), importObject(9))),
    fulfilled(9, "<desc:import-object 1>"),
  );
  // Two desc:import-object for export 1 were sent: the delta must say 2.
  assert.equal(p.b.stats().exports, 1);
  await p.exchange(msg("op:gc-exports", [1n], [1n]));
  assert.equal(p.b.stats().exports, 1);
  await p.exchange(
    msg("op:gc-exports", [1n], [1n]),
    msg("op:gc-answers", [0n]),
  );
  assertTablesEmpty(p.b);
  await p.done();
});

Deno.test("op:listen with a non-boolean wants-partial aborts the session", async () => {
  const { p } = await listenFixture();
  const replies = await p.exchange(
    msg("op:listen", descAnswer(0), importObject(5), "yes"),
  );
  assert.match(replies[0], /^<op:abort ".*wants-partial must be a boolean/);
  assert.equal(p.b.state, "closed");
  await p.done();
});

Deno.test("the bootstrap object crosses back as desc:import-object 0, never as a struct", async () => {
  const p = await RawPeer.open();
  p.bob.directory.swiss.publish(far({ echo: (x: unknown) => x }), "echo");
  await p.exchange(
    msg("op:deliver", descExport(0), [sym("fetch"), bytes("echo")], 0n, false),
  );
  assert.deepEqual(
    await p.exchange(
      msg("op:listen", descExport(0), importObject(3)),
      msg(
        "op:deliver",
        descAnswer(0),
        [sym("echo"), descExport(0)],
        false,
        importObject(4),
      ),
    ),
    [
      "<op:deliver <desc:export 3> ['fulfill <desc:import-object 0>] false false>",
      "<op:gc-exports [3] [1]>",
      "<op:deliver <desc:export 4> ['fulfill <desc:import-object 0>] false false>",
      "<op:gc-exports [4] [1]>",
    ],
  );
  assert.deepEqual(
    await p.exchange(
      msg("op:gc-exports", [0n], [2n]),
      msg("op:gc-answers", [0n]),
    ),
    [],
  );
  assert.equal(p.b.state, "open");
  assertTablesEmpty(p.b);
  await p.done();
});
