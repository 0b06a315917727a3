import assert from "node:assert/strict";
import { MemoryNetwork } from "../../netlayers/memory.ts";
import type { Connection } from "../../netlayers/types.ts";
import {
  ConnectFailedError,
  ConnectionClosedError,
} from "../../netlayers/errors.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { runConformance } from "./_conformance.ts";
import type { PairOptions } from "./_conformance.ts";
import { Inbox } from "./_inbox.ts";

async function pair(options: PairOptions = {}) {
  const network = new MemoryNetwork();
  const bob = network.netlayer("bob", { maxLength: options.serverMaxLength });
  const alice = network.netlayer("alice");
  const accepted = new Promise<Connection>((resolve) => bob.onAccept(resolve));
  const client = await alice.connect(bob.location);
  const server = await accepted;
  const dispose = async () => {
    await Promise.all([alice.close(), bob.close()]);
    assert.equal(alice.connectionCount + bob.connectionCount, 0);
  };
  return { network, client, server, dispose };
}

runConformance("memory", {
  stream: true,
  framing: "bare",
  makePair: pair,
  async makeRawPair(options) {
    const { network, client, server, dispose } = await pair(options);
    return {
      server,
      writeRaw: (bytes) => Promise.resolve(network.deliverRaw(server, bytes)),
      peerClosed: client.closed,
      closeRaw: () => client.close(),
      dispose,
    };
  },
});

Deno.test("MemoryNetwork in manual mode moves one delivery per pump() and records a transcript", async () => {
  const network = new MemoryNetwork({ delivery: "manual", record: true });
  const alice = network.netlayer("alice");
  const bob = network.netlayer("bob");
  const accepted = new Promise<Connection>((resolve) => bob.onAccept(resolve));
  const client = await alice.connect(bob.location);
  const server = new Inbox(await accepted);
  const clientInbox = new Inbox(client);
  client.send(encode("one"));
  client.send(encode("two"));
  assert.equal(network.pending, 2);
  assert.deepEqual(server.messages, []);
  assert.equal(network.pump(), true);
  assert.deepEqual(server.messages, ["one"]);
  assert.equal(network.pump(), true);
  assert.deepEqual(server.messages, ["one", "two"]);
  assert.equal(network.pump(), false);
  const closing = client.close();
  assert.equal(network.pumpAll(), 1);
  await closing;
  assert.ok(await server.closeReason instanceof ConnectionClosedError);
  assert.equal(await clientInbox.closeReason, undefined);
  assert.deepEqual(
    network.transcript.map((e) => [e.from, e.to, e.kind]),
    [["alice", "bob", "message"], ["alice", "bob", "message"], [
      "alice",
      "bob",
      "close",
    ]],
  );
  assert.deepEqual(network.transcript.slice(0, 2).map((e) => decode(e.bytes)), [
    "one",
    "two",
  ]);
  await Promise.all([alice.close(), bob.close()]);
});

Deno.test("MemoryNetwork.sever() closes both ends at once and drops what is in flight", async () => {
  const { network, client, server, dispose } = await pair();
  const c = new Inbox(client);
  const s = new Inbox(server);
  client.send(encode("lost"));
  network.sever(client);
  assert.ok(await c.closeReason instanceof ConnectionClosedError);
  assert.ok(await s.closeReason instanceof ConnectionClosedError);
  assert.deepEqual(s.messages, []);
  await dispose();
});

Deno.test("MemoryNetlayer.connect() rejects an unknown designator and another transport", async () => {
  const network = new MemoryNetwork();
  const alice = network.netlayer("alice");
  await assert.rejects(
    alice.connect({ transport: "memory", designator: "nobody", hints: {} }),
    ConnectFailedError,
  );
  await assert.rejects(
    alice.connect({
      transport: "tcp-testing-only",
      designator: "x",
      hints: {},
    }),
    TypeError,
  );
  assert.throws(() => network.netlayer("alice"), TypeError);
  await alice.close();
  await assert.rejects(
    network.netlayer("carol").connect(alice.location),
    ConnectFailedError,
  );
});

Deno.test("MemoryNetlayer.close() closes its connections and frees its designator", async () => {
  const { network, client, server, dispose } = await pair();
  const s = new Inbox(server);
  const c = new Inbox(client);
  await dispose();
  assert.equal(await c.closeReason, undefined);
  assert.equal(await s.closeReason, undefined);
  const again = network.netlayer("bob");
  assert.equal(again.location.designator, "bob");
  await again.close();
});
