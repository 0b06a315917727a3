import assert from "node:assert/strict";
import { E } from "../../runtime/e.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { TcpTestingNetlayer } from "../../netlayers/tcp_testing.ts";
import { MemoryNetwork } from "../../netlayers/memory.ts";
import type { Netlayer } from "../../netlayers/types.ts";
import { parseSturdyRefUri } from "../../protocol/locator.ts";

/** A car factory whose cars answer `drive`; the pipelining fixture. */
function publishFactory(node: OCapNNode) {
  const factory = node.vat.makeFar("CarFactory", {
    makeCar(color: string) {
      return node.vat.makeFar("Car", { drive: () => `Vroom! a ${color} car` });
    },
  });
  return node.publishUri(factory, { swiss: "factory" });
}

async function withNodes(
  makeNetlayer: (name: string) => Netlayer,
  body: (alice: OCapNNode, bob: OCapNNode) => Promise<void>,
) {
  const alice = new OCapNNode();
  const bob = new OCapNNode();
  alice.listen(makeNetlayer("alice"));
  bob.listen(makeNetlayer("bob"));
  try {
    await body(alice, bob);
  } finally {
    await alice.close();
    await bob.close();
  }
  assert.equal(alice.registry.stats().live, 0);
  assert.equal(bob.registry.stats().live, 0);
}

for (
  const [name, make] of [
    [
      "tcp-testing-only",
      () => (n: string) =>
        TcpTestingNetlayer.listen({ designator: n, lingerMs: 50 }),
    ],
    ["memory", () => {
      const network = new MemoryNetwork();
      return (n: string) => network.netlayer(n);
    }],
  ] as const
) {
  Deno.test(`node: enliven a sturdyref and make a pipelined call over ${name}`, async () => {
    await withNodes(make(), async (alice, bob) => {
      const uri = publishFactory(alice);
      assert.equal(parseSturdyRefUri(uri).peer.designator, "alice");
      const factory = await bob.enliven(uri);
      // Pipelined: drive is sent to the answer of makeCar before it resolves.
      const car = E(factory).makeCar("red");
      assert.equal(await E(car).drive(), "Vroom! a red car");
      // A second enliven reuses the live session.
      await bob.enliven(uri);
      assert.equal(bob.sessions.length, 1);
    });
  });
}

Deno.test("node: fetching an unknown swiss number breaks the promise", async () => {
  const network = new MemoryNetwork();
  await withNodes((n) => network.netlayer(n), async (alice, bob) => {
    const uri = publishFactory(alice).replace("/s/factory", "/s/nothing");
    await assert.rejects(bob.enliven(uri));
    assert.equal(bob.sessions.length, 1);
  });
});
