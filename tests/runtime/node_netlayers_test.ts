import assert from "node:assert/strict";
import { E } from "../../runtime/e.ts";
import { OCapNNode } from "../../runtime/node.ts";
import { parseSturdyRefUri } from "../../protocol/locator.ts";
import { TcpTestingNetlayer } from "../../netlayers/tcp_testing.ts";
import { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
import { WebSocketNetlayer } from "../../netlayers/websocket.ts";
import { defaultCrypto as crypto } from "../../crypto/mod.ts";
import { portOf } from "./_netlayers.ts";

const lingerMs = 50;

/** How to listen on each transport; the key is the transport's name. */
const LISTEN = {
  "tcp-testing-only": (name: string) =>
    TcpTestingNetlayer.listen({ designator: name, lingerMs }),
  "noise-tcp": () => NoiseTcpNetlayer.listen({ lingerMs }),
  "websocket": () => WebSocketNetlayer.listen({ crypto, lingerMs }),
};
type Transport = keyof typeof LISTEN;
const TRANSPORTS = Object.keys(LISTEN) as Transport[];

/** Nodes that all end closed with empty registries. */
async function withNodes(
  count: number,
  body: (nodes: OCapNNode[]) => Promise<void>,
) {
  const nodes = Array.from({ length: count }, () => new OCapNNode());
  try {
    await body(nodes);
  } finally {
    for (const node of nodes) await node.close();
  }
  for (const node of nodes) assert.equal(node.registry.stats().live, 0);
}

Deno.test("node: one node listens on tcp-testing-only, noise-tcp and websocket at once; each sturdyref names its own listener", async () => {
  await withNodes(4, async ([carol, ...dialers]) => {
    const netlayers = TRANSPORTS.map((t) => LISTEN[t]("carol"));
    const locations = netlayers.map((netlayer) => carol.listen(netlayer));
    assert.deepEqual(carol.locations, locations);
    const greeter = carol.vat.makeFar("Greeter", {
      greet: (who: string) => `hello ${who}`,
    });
    const uris = TRANSPORTS.map((transport) =>
      carol.publishUri(greeter, { swiss: "greeter", transport })
    );
    const peers = uris.map((uri) => parseSturdyRefUri(uri).peer);
    // Each sturdyref carries the hints of the listener of its transport.
    assert.deepEqual(peers.map((p) => p.transport), TRANSPORTS);
    assert.deepEqual(peers[0].hints, {
      host: "127.0.0.1",
      port: netlayers[0].location.hints.port,
    });
    assert.deepEqual(peers[1].hints, {
      host: "127.0.0.1",
      port: netlayers[1].location.hints.port,
    });
    assert.deepEqual(peers[2].hints, {
      url: `ws://127.0.0.1:${portOf(netlayers[2].location)}`,
    });
    assert.equal(new Set(peers.map(portOf)).size, 3);
    // The designator is the name for tcp-testing-only and each listener's
    // own key for the secure netlayers.
    assert.equal(peers[0].designator, "carol");
    assert.notEqual(peers[1].designator, peers[2].designator);
    assert.match(peers[1].designator, /^[a-z2-7]{52}$/);

    // Three nodes, each on one transport, each enliven the sturdyref of
    // that transport: each session runs over the transport it named.
    for (const [i, dialer] of dialers.entries()) {
      dialer.listen(LISTEN[TRANSPORTS[i]](`dialer${i}`));
    }
    const replies = await Promise.all(
      dialers.map(async (dialer, i) =>
        await E(await dialer.enliven(uris[i])).greet(`dialer ${i}`)
      ),
    );
    assert.deepEqual(replies, [
      "hello dialer 0",
      "hello dialer 1",
      "hello dialer 2",
    ]);
    for (const [i, dialer] of dialers.entries()) {
      assert.deepEqual(
        dialer.sessions.map((s) => s.peer),
        [peers[i]],
      );
    }
    assert.deepEqual(
      carol.sessions.map((s) => s.peer?.transport).sort(),
      [...TRANSPORTS].sort(),
    );
    assert.deepEqual(netlayers.map((n) => n.connectionCount), [1, 1, 1]);
  });
});

Deno.test("node: a node on several netlayers dials each sturdyref over the netlayer it names and signs that netlayer's locator", async () => {
  await withNodes(2, async ([carol, dave]) => {
    const theirs = TRANSPORTS.map((t) => LISTEN[t]("carol"));
    const ours = TRANSPORTS.map((t) => LISTEN[t]("dave"));
    for (const netlayer of theirs) carol.listen(netlayer);
    for (const netlayer of ours) dave.listen(netlayer);
    const counter = carol.vat.makeFar("Counter", { n: () => 7 });
    const counts: number[][] = [];
    for (const transport of TRANSPORTS) {
      const uri = carol.publishUri(counter, { swiss: "counter", transport });
      assert.equal(await E(await dave.enliven(uri)).n(), 7);
      counts.push(ours.map((n) => n.connectionCount));
    }
    // One more connection each time, on the netlayer the sturdyref named.
    assert.deepEqual(counts, [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
    assert.deepEqual(theirs.map((n) => n.connectionCount), [1, 1, 1]);
    // Each session announces the locator of the netlayer it runs over.
    const byTransport = (node: OCapNNode) =>
      node.sessions.map((s) => s.peer!).sort((a, b) =>
        TRANSPORTS.indexOf(a.transport as Transport) -
        TRANSPORTS.indexOf(b.transport as Transport)
      );
    assert.deepEqual(byTransport(carol), dave.locations);
    assert.deepEqual(byTransport(dave), carol.locations);
  });
});

Deno.test("node: publish() defaults to the first netlayer and refuses a transport it does not listen on", async () => {
  await withNodes(1, async ([node]) => {
    const [tcp, noise] = [
      LISTEN["tcp-testing-only"]("n"),
      LISTEN["noise-tcp"](),
    ];
    node.listen(tcp);
    node.listen(noise);
    const thing = node.vat.makeFar("Thing", {});
    assert.deepEqual(node.publish(thing).peer, tcp.location);
    assert.throws(
      () => node.publish(thing, { transport: "websocket" }),
      { name: "TypeError", message: 'No netlayer to publish on: "websocket"' },
    );
    const again = LISTEN["noise-tcp"]();
    try {
      assert.throws(() => node.listen(again), TypeError);
    } finally {
      await again.close();
    }
  });
});
