import assert from "node:assert/strict";
import { E } from "../../runtime/e.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { MemoryNetwork } from "../../netlayers/memory.ts";
import { LocalReference } from "../../runtime/refs.ts";

/** Alice, Bob and Carol over one in-memory network. */
async function withTrio(
  body: (
    t: {
      network: MemoryNetwork;
      alice: OCapNNode;
      bob: OCapNNode;
      carol: OCapNNode;
      log: unknown[];
    },
  ) => Promise<void>,
) {
  const network = new MemoryNetwork({ record: true });
  const [alice, bob, carol] = ["alice", "bob", "carol"].map((name) => {
    const node = new OCapNNode();
    node.listen(network.netlayer(name));
    return node;
  });
  const log: unknown[] = [];
  const carolObj = carol.vat.makeFar("Carol", {
    greet: (name: string) => `hello ${name}, this is carol`,
    note: (n: number) => log.push(n),
    whoami: () => "carol",
  });
  carol.publish(carolObj, { swiss: "carol" });
  const bobObj = bob.vat.makeFar("Bob", {
    introduce: (ref: unknown) => E(ref).greet("bob"),
    pipeline: (ref: unknown) => {
      E(ref).note(1);
      E(ref).note(2);
      return E(ref).note(3);
    },
    identity: (ref: unknown) => ref === bobObj,
    isLocal: (ref: unknown) => LocalReference.is(ref),
  });
  bob.publish(bobObj, { swiss: "bob" });
  try {
    await body({ network, alice, bob, carol, log });
  } finally {
    for (const node of [alice, bob, carol]) await node.close();
  }
  for (const node of [alice, bob, carol]) {
    assert.deepEqual(node.registry.stats().byKind, {});
  }
}

async function enliven(node: OCapNNode, name: string) {
  return await node.enliven({
    peer: { transport: "memory", designator: name, hints: {} },
    swissNum: new TextEncoder().encode(name),
  });
}

const peersOf = (node: OCapNNode) =>
  node.sessions.map((s) => s.peer?.designator).sort();

Deno.test("handoff: Alice introduces Bob to Carol and Bob talks to Carol directly", async () => {
  await withTrio(async ({ network, alice, bob, carol }) => {
    const toCarol = await enliven(alice, "carol");
    const toBob = await enliven(alice, "bob");
    assert.equal(
      await E(toBob).introduce(toCarol),
      "hello bob, this is carol",
    );
    // The exporter sees a session from the receiver.
    assert.deepEqual(peersOf(carol), ["alice", "bob"]);
    assert.deepEqual(peersOf(bob), ["alice", "carol"]);
    // The gifter relays no traffic: a second introduction's calls to Carol
    // go over Bob-Carol only.
    const before = network.transcript.length;
    await E(toBob).introduce(toCarol);
    const after = network.transcript.slice(before);
    const pairs = new Set(after.map((e) => [e.from, e.to].sort().join("-")));
    assert.ok(pairs.has("bob-carol"));
    const aliceCarol = after.filter((e) =>
      [e.from, e.to].sort().join("-") === "alice-carol"
    );
    // Only the deposit-gift (and GC) goes alice -> carol; nothing from Bob.
    assert.ok(aliceCarol.length <= 2, `alice-carol saw ${aliceCarol.length}`);
    // The session was reused: still one session per peer.
    assert.deepEqual(peersOf(bob), ["alice", "carol"]);
    assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
    assert.equal(carol.registry.stats().byKind["captp.gift"], undefined);
  });
});

Deno.test("handoff: messages pipelined on the receiver's promise arrive in order", async () => {
  await withTrio(async ({ alice, log }) => {
    const toCarol = await enliven(alice, "carol");
    const toBob = await enliven(alice, "bob");
    await E(toBob).pipeline(toCarol);
    assert.deepEqual(log, [1, 2, 3]);
  });
});

Deno.test("handoff: no handoff when the receiver is the exporter or the ref is its own", async () => {
  await withTrio(async ({ alice, bob }) => {
    const toBob = await enliven(alice, "bob");
    // The reference is the receiver's own: Bob gets his local object back.
    assert.equal(await E(toBob).identity(toBob), true);
    // The gifter is the exporter: Alice's own object goes as an import.
    const mine = alice.vat.makeFar("AliceThing", { hi: () => "hi" });
    assert.equal(await E(toBob).isLocal(mine), false);
    assert.deepEqual(peersOf(bob), ["alice"]);
  });
});

Deno.test("handoff: Carol going away mid-handoff breaks the promise; a restarted Carol works", async () => {
  await withTrio(async ({ network, alice, bob, carol }) => {
    const toCarol = await enliven(alice, "carol");
    const toBob = await enliven(alice, "bob");
    const answer = E(toBob).introduce(toCarol);
    await carol.close("carol went away");
    await assert.rejects(answer, (e: Error) => {
      assert.match(e.message, /Handoff failed|severed|closed/i);
      return true;
    });
    assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
    // The other sessions stay up.
    assert.deepEqual(peersOf(bob), ["alice"]);
    const carol2 = new OCapNNode();
    carol2.listen(network.netlayer("carol"));
    carol2.publish(
      carol2.vat.makeFar("Carol2", { greet: (n: string) => `hi ${n} again` }),
      { swiss: "carol" },
    );
    try {
      const toCarol2 = await enliven(alice, "carol");
      assert.equal(await E(toBob).introduce(toCarol2), "hi bob again");
    } finally {
      await carol2.close();
    }
    assert.deepEqual(carol2.registry.stats().byKind, {});
  });
});

Deno.test("handoff: an unreachable exporter breaks the promise naming the cause", async () => {
  await withTrio(async ({ network, alice, bob }) => {
    const toCarol = await enliven(alice, "carol");
    const toBob = await enliven(alice, "bob");
    // Bob can no longer dial Carol (her netlayer is gone from the network),
    // while Alice's session with her is still up.
    network.forget(network.lookup("carol")!);
    await assert.rejects(E(toBob).introduce(toCarol), /exporter-unreachable/);
    assert.deepEqual(peersOf(bob), ["alice"]);
    assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
  });
});

Deno.test("handoff: three OS processes over tcp-testing-only get a direct reference", async () => {
  const demo = new URL("../../examples/handoff_demo.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", demo.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const line = stdout.split("\n").find((l) => l.startsWith("alice reports: "));
  assert.ok(line, stdout);
  const report = JSON.parse(line.slice("alice reports: ".length));
  // Bob holds a session of his own with Carol, and Carol one with Bob.
  assert.deepEqual(report.bobSessions, ["alice", "carol"]);
  assert.match(report.reply, /^hello bob, this is Carol; .*: alice, bob$/);
});
