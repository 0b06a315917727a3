import assert from "node:assert/strict";
import { E } from "../../runtime/e.ts";
import { type NodeOptions, OCapNNode } from "../../runtime/node.ts";
import { parseSturdyRefUri } from "../../protocol/locator.ts";
import { SessionSeveredError } from "../../protocol/captp/errors.ts";
import { ManualFinalizer } from "../protocol/captp/_harness.ts";
import { NETLAYERS, type TestNetwork } from "./_netlayers.ts";

/** A car factory whose cars answer `drive`; the pipelining fixture. */
function publishFactory(node: OCapNNode) {
  const factory = node.vat.makeFar("CarFactory", {
    makeCar(color: string) {
      return node.vat.makeFar("Car", { drive: () => `Vroom! a ${color} car` });
    },
    ping: () => "pong",
  });
  return node.publishUri(factory, { swiss: "factory" });
}

/** Alice (the exporter) and Bob, each listening on `network`; both end empty. */
async function withNodes(
  network: TestNetwork,
  body: (alice: OCapNNode, bob: OCapNNode) => Promise<void>,
  bobOptions: NodeOptions = {},
) {
  const alice = new OCapNNode();
  const bob = new OCapNNode(bobOptions);
  alice.listen(network.listen("alice"));
  bob.listen(network.listen("bob"));
  try {
    await body(alice, bob);
  } finally {
    await alice.close();
    await bob.close();
  }
  assert.equal(alice.registry.stats().live, 0);
  assert.equal(bob.registry.stats().live, 0);
}

for (const [name, makeNetwork] of NETLAYERS) {
  Deno.test(`node: enliven a sturdyref and make a pipelined call over ${name}`, async () => {
    await withNodes(makeNetwork(), async (alice, bob) => {
      const uri = publishFactory(alice);
      const peer = parseSturdyRefUri(uri).peer;
      assert.deepEqual(peer, alice.locations[0]);
      assert.equal(peer.transport, name);
      const factory = await bob.enliven(uri);
      // Pipelined: drive is sent to the answer of makeCar before it resolves.
      const car = E(factory).makeCar("red");
      assert.equal(await E(car).drive(), "Vroom! a red car");
      // A second enliven reuses the live session.
      await bob.enliven(uri);
      assert.equal(bob.sessions.length, 1);
      assert.equal(bob.sessions[0].peer?.transport, name);
    });
  });

  Deno.test(`node: fetching an unknown swiss number breaks the promise over ${name}`, async () => {
    await withNodes(makeNetwork(), async (alice, bob) => {
      const uri = publishFactory(alice).replace("/s/factory", "/s/nothing");
      await assert.rejects(bob.enliven(uri));
      assert.equal(bob.sessions.length, 1);
    });
  });

  Deno.test(`node: a reference the importer drops is released at the exporter over ${name}`, async () => {
    const finalizer = new ManualFinalizer();
    await withNodes(makeNetwork(), async (alice, bob) => {
      const factory = await bob.enliven(publishFactory(alice));
      const car = await E(factory).makeCar("blue");
      assert.equal(await E(car).drive(), "Vroom! a blue car");
      const [atAlice] = alice.sessions;
      const [atBob] = bob.sessions;
      const held = () => [atAlice.stats().exports, atBob.stats().imports];
      assert.deepEqual(held(), [2, 2]);
      finalizer.collect(car as object);
      atBob.flushGc();
      // Messages keep their order, so once this answer is back Alice has
      // read the op:gc-exports sent before it.
      assert.equal(await E(factory).ping(), "pong");
      // The ping's own question may still be open; the car is gone.
      assert.deepEqual(held(), [1, 1]);
      atAlice.check();
      atBob.check();
    }, { finalizer: finalizer.factory });
  });

  Deno.test(`node: closing the exporter breaks the importer's promises and a later enliven opens a new session over ${name}`, async () => {
    const network = makeNetwork();
    await withNodes(network, async (alice, bob) => {
      const called = Promise.withResolvers<void>();
      const waiter = alice.vat.makeFar("Waiter", {
        wait() {
          called.resolve();
          return new Promise(() => {});
        },
      });
      const uri = alice.publishUri(waiter, { swiss: "waiter" });
      const remote = await bob.enliven(uri);
      const answer = E(remote).wait();
      const pipelined = E(answer).more();
      await called.promise;
      const [first] = bob.sessions;
      await alice.close("alice went away");
      for (const promise of [answer, pipelined]) {
        await assert.rejects(promise, (error: Error) => {
          assert.ok(error instanceof SessionSeveredError, String(error));
          assert.equal(error.message, "Session severed: alice went away");
          return true;
        });
      }
      assert.equal(await first.whenClosed(), "alice went away");
      assert.equal(bob.sessions.length, 0);
      await assert.rejects(E(remote).wait(), SessionSeveredError);
      // Alice restarts where she was: the same sturdyref now dials afresh.
      const alice2 = new OCapNNode();
      alice2.listen(network.listen("alice"));
      alice2.publishUri(
        alice2.vat.makeFar("Waiter", { wait: () => "done" }),
        { swiss: "waiter" },
      );
      try {
        assert.deepEqual(alice2.locations, [parseSturdyRefUri(uri).peer]);
        const again = await bob.enliven(uri);
        assert.equal(await E(again).wait(), "done");
        assert.equal(bob.sessions.length, 1);
        assert.notEqual(bob.sessions[0], first);
      } finally {
        await alice2.close();
      }
      assert.equal(alice2.registry.stats().live, 0);
    });
  });
}
