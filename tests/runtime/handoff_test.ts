import assert from "node:assert/strict";
import { E } from "../../runtime/e.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { LocalReference } from "../../runtime/refs.ts";
import type { CapTPSession } from "../../protocol/captp/session.ts";
import { NETLAYERS, type TestNetwork } from "./_netlayers.ts";

const NAMES = ["alice", "bob", "carol"] as const;
type Name = typeof NAMES[number];

interface Trio {
  network: TestNetwork;
  alice: OCapNNode;
  bob: OCapNNode;
  carol: OCapNNode;
  log: unknown[];
  /** `node`'s live reference to the object `name` published. */
  enliven(node: OCapNNode, name: Name): Promise<unknown>;
  /** The names of the peers `node` has sessions with, sorted. */
  peersOf(node: OCapNNode): string[];
  /** `node`'s session with the node called `name`. */
  sessionWith(node: OCapNNode, name: Name): CapTPSession | undefined;
}

/** Alice, Bob and Carol, each listening on `network`; all end empty. */
async function withTrio(
  network: TestNetwork,
  body: (t: Trio) => Promise<void>,
) {
  const [alice, bob, carol] = NAMES.map((name) => {
    const node = new OCapNNode();
    node.listen(network.listen(name));
    return node;
  });
  // Designators are keys on the secure netlayers: name peers by them.
  const names = new Map(
    [alice, bob, carol].map((node, i) => [
      node.locations[0].designator,
      NAMES[i],
    ]),
  );
  const nameOf = (s: CapTPSession) => names.get(s.peer?.designator ?? "");
  const log: unknown[] = [];
  const carolObj = carol.vat.makeFar("Carol", {
    greet: (name: string) => `hello ${name}, this is carol`,
    note: (n: number) => log.push(n),
    whoami: () => "carol",
  });
  let kept: unknown;
  const bobObj = bob.vat.makeFar("Bob", {
    introduce: (ref: unknown) => E(ref).greet("bob"),
    // Answers once the handoff is done and Carol has been reached.
    keep: (ref: unknown) => E(kept = ref).whoami(),
    greetKept: () => E(kept).greet("bob"),
    pipeline: (ref: unknown) => {
      E(ref).note(1);
      E(ref).note(2);
      return E(ref).note(3);
    },
    identity: (ref: unknown) => ref === bobObj,
    isLocal: (ref: unknown) => LocalReference.is(ref),
  });
  const uris = new Map<Name, string>([
    ["carol", carol.publishUri(carolObj, { swiss: "carol" })],
    ["bob", bob.publishUri(bobObj, { swiss: "bob" })],
  ]);
  try {
    await body({
      network,
      alice,
      bob,
      carol,
      log,
      enliven: (node, name) => node.enliven(uris.get(name)!),
      peersOf: (node) => node.sessions.map((s) => nameOf(s) ?? "?").sort(),
      sessionWith: (node, name) =>
        node.sessions.find((s) => nameOf(s) === name),
    });
  } finally {
    for (const node of [alice, bob, carol]) await node.close();
  }
  for (const node of [alice, bob, carol]) {
    assert.deepEqual(node.registry.stats().byKind, {});
  }
}

for (const [name, makeNetwork] of NETLAYERS) {
  Deno.test(`handoff: Alice introduces Bob to Carol and Bob talks to Carol directly over ${name}`, async () => {
    await withTrio(makeNetwork(), async (t) => {
      const { network, alice, bob, carol, enliven, peersOf } = t;
      const toCarol = await enliven(alice, "carol");
      const toBob = await enliven(alice, "bob");
      assert.equal(
        await E(toBob).introduce(toCarol),
        "hello bob, this is carol",
      );
      // The exporter sees a session from the receiver.
      assert.deepEqual(peersOf(carol), ["alice", "bob"]);
      assert.deepEqual(peersOf(bob), ["alice", "carol"]);
      const transcript = network.transcript;
      if (transcript !== undefined) {
        // The gifter relays no traffic: a second introduction's calls to
        // Carol go over Bob-Carol only.
        const before = transcript.length;
        await E(toBob).introduce(toCarol);
        const after = transcript.slice(before);
        const pair = (e: { from: string; to: string }) =>
          [e.from, e.to].sort().join("-");
        assert.ok(after.some((e) => pair(e) === "bob-carol"));
        const aliceCarol = after.filter((e) => pair(e) === "alice-carol");
        // Only the deposit-gift (and GC) goes alice -> carol; nothing from Bob.
        assert.ok(
          aliceCarol.length <= 2,
          `alice-carol saw ${aliceCarol.length}`,
        );
      }
      // Bob's reference works with no Alice-Carol session at all: it is
      // direct, on every netlayer.
      assert.equal(await E(toBob).keep(toCarol), "carol");
      const aliceCarol = t.sessionWith(alice, "carol")!;
      aliceCarol.abort("alice hangs up on carol");
      await aliceCarol.whenClosed();
      assert.equal(await E(toBob).greetKept(), "hello bob, this is carol");
      // The session was reused: still one session per peer.
      assert.deepEqual(peersOf(bob), ["alice", "carol"]);
      assert.equal(t.sessionWith(bob, "carol")?.peer?.transport, name);
      assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
      assert.equal(carol.registry.stats().byKind["captp.gift"], undefined);
    });
  });

  Deno.test(`handoff: messages pipelined on the receiver's promise arrive in order over ${name}`, async () => {
    await withTrio(makeNetwork(), async ({ alice, log, enliven }) => {
      const toCarol = await enliven(alice, "carol");
      const toBob = await enliven(alice, "bob");
      await E(toBob).pipeline(toCarol);
      assert.deepEqual(log, [1, 2, 3]);
    });
  });

  Deno.test(`handoff: no handoff when the receiver is the exporter or the ref is its own over ${name}`, async () => {
    await withTrio(makeNetwork(), async ({ alice, bob, enliven, peersOf }) => {
      const toBob = await enliven(alice, "bob");
      // The reference is the receiver's own: Bob gets his local object back.
      assert.equal(await E(toBob).identity(toBob), true);
      // The gifter is the exporter: Alice's own object goes as an import.
      const mine = alice.vat.makeFar("AliceThing", { hi: () => "hi" });
      assert.equal(await E(toBob).isLocal(mine), false);
      assert.deepEqual(peersOf(bob), ["alice"]);
    });
  });

  Deno.test(`handoff: Carol going away mid-handoff breaks the promise; a restarted Carol works over ${name}`, async () => {
    await withTrio(makeNetwork(), async (t) => {
      const { network, alice, bob, carol, enliven, peersOf } = t;
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
      // Carol comes back where she was, under the same sturdyref.
      const carol2 = new OCapNNode();
      carol2.listen(network.listen("carol"));
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

  Deno.test(`handoff: an unreachable exporter breaks the promise naming the cause over ${name}`, async () => {
    await withTrio(
      makeNetwork(),
      async ({ network, alice, bob, enliven, peersOf }) => {
        const toCarol = await enliven(alice, "carol");
        const toBob = await enliven(alice, "bob");
        // Bob can no longer dial Carol, while Alice's session with her is
        // still up.
        network.unreachable("carol");
        await assert.rejects(
          E(toBob).introduce(toCarol),
          /exporter-unreachable/,
        );
        assert.deepEqual(peersOf(bob), ["alice"]);
        assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
      },
    );
  });
}

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
