import assert from "node:assert/strict";
import { assertEmpty, inbox, Net } from "./_net.ts";

// The per-peer secrets of slot_table.ts, through the endpoint's API: reuse
// within the idle time, rebinding, a peer that forgot its secret, and two
// peers dialling each other at once.

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("UdpEndpoint reuses the cached secret within the idle time only", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const first = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  first.close();
  net.clock.advance(60_000);
  const before = [...net.handshakes];
  const second = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.deepEqual(net.handshakes, before, "no handshake datagram");
  await net.until(() => b.accepted.length === 2);
  const got = inbox(b.accepted[1]);
  second.send(text("again"));
  await net.until(() => got.messages.length === 1);
  assert.equal(b.endpoint.stats().connections, 1, "the first one closed");
  second.close();
  net.clock.advance(15 * 60 * 1000 + 2_000);
  assert.equal(a.endpoint.stats().sessions, 0, "expired");
  assert.equal(b.endpoint.stats().sessions, 0, "expired");
  await net.settle(a.endpoint.connect({ key: b.key, address: b.address }));
  assert.equal(net.handshakes[1], before[1] + 1, "a new handshake");
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint follows NAT rebinding only for authentic datagrams", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  const fromB = inbox(session);
  session.send(text("1"));
  await net.until(() => b.accepted.length === 1);
  const accepted = b.accepted[0];
  const fromA = inbox(accepted);
  await net.until(() => fromA.messages.length === 1);
  net.move(a, { hostname: "203.0.113.5", port: 6000 });
  session.send(text("2"));
  await net.until(() => fromA.messages.length === 2);
  assert.deepEqual(accepted.remoteAddress, a.address, "moved");
  accepted.send(text("reply"));
  await net.until(() => fromB.messages.length === 1, 5_000);
  assert.equal(
    str(fromB.messages[0]),
    "reply",
    "replies reach the new address",
  );
  // A forged (re-sent, then tampered) datagram from elsewhere moves nothing.
  let copy: Uint8Array | undefined;
  net.filter = (d) => {
    if (d.bytes[0] === 4) copy ??= d.bytes.slice();
    return true;
  };
  session.send(text("3"));
  await net.until(() => fromA.messages.length === 3);
  const forged = copy!.slice();
  forged[forged.length - 1] ^= 1;
  b.endpoint.receive(forged, { hostname: "198.51.100.9", port: 1 });
  b.endpoint.receive(copy!, { hostname: "198.51.100.9", port: 1 });
  assert.deepEqual(accepted.remoteAddress, a.address, "not moved");
  assert.equal(b.endpoint.stats().rebinds, 1);
  assertEmpty(net, a, b);
});

// Found by hostile_test.ts (UDP_FUZZ_SEED=2228): an on-path attacker held
// back one authentic datagram and later sent it from its own address; the
// session followed it there and the honest peer went unheard.
Deno.test("UdpEndpoint does not follow a withheld datagram forwarded from elsewhere after newer ones", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  session.send(text("1"));
  await net.until(() => b.accepted.length === 1);
  const accepted = b.accepted[0];
  const fromA = inbox(accepted);
  await net.until(() => fromA.messages.length === 1);
  let held: Uint8Array | undefined;
  net.filter = (d) => {
    if (d.bytes[0] !== 4 || held !== undefined) return true;
    held = d.bytes.slice();
    return false;
  };
  session.send(text("2"));
  session.send(text("3"));
  const start = net.clock.now();
  await net.until(() => net.clock.now() >= start + 3);
  b.endpoint.receive(held!, { hostname: "198.51.100.9", port: 1 });
  assert.deepEqual(accepted.remoteAddress, a.address, "not moved");
  assert.equal(b.endpoint.stats().rebinds, 0);
  await net.until(() => fromA.messages.length === 3);
  assert.deepEqual(fromA.messages.map(str), ["1", "2", "3"]);
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint connect() to a restarted peer drops the stale secret and handshakes with the new instance", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const first = inbox(
    await net.settle(a.endpoint.connect({ key: b.key, address: b.address })),
  );
  await net.until(() => b.accepted.length === 1);
  const b2 = net.restart(b);
  assert.equal(b.registry.stats().live, 0, "the old instance freed all");
  net.clock.advance(60_000);
  const initiations = net.handshakes[1];
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.ok(b2.endpoint.stats().cheapRejects > 0, "stale datagrams dropped");
  assert.equal(net.handshakes[1], initiations + 1, "one fresh handshake");
  assert.equal(b2.endpoint.stats().handshakesCompleted, 1);
  assert.deepEqual(session.remoteKey, b.key);
  assert.notEqual(first.closed, undefined, "the stale connection ended");
  const back = inbox(session);
  session.send(text("hello again"));
  await net.until(() => b2.accepted.length === 1);
  const got = inbox(b2.accepted[0]);
  await net.until(() => got.messages.length === 1);
  assert.equal(str(got.messages[0]), "hello again");
  b2.accepted[0].send(text("welcome back"));
  await net.until(() => back.messages.length === 1);
  assert.equal(a.endpoint.stats().sessions, 1, "only the new secret");
  assert.equal(a.registry.stats().byKind["udp-session"], 1);
  assertEmpty(net, a, b2);
});

Deno.test("UdpEndpoint peers that connect to each other at once both get working connections", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const [ab, ba] = await net.settle(Promise.all([
    a.endpoint.connect({ key: b.key, address: b.address }),
    b.endpoint.connect({ key: a.key, address: a.address }),
  ]));
  await net.until(() => a.accepted.length === 1 && b.accepted.length === 1);
  const pairs = [[ab, b.accepted[0]], [ba, a.accepted[0]]];
  for (const [i, [mine, theirs]] of pairs.entries()) {
    const there = inbox(theirs);
    const here = inbox(mine);
    mine.send(text(`ping ${i}`));
    await net.until(() => there.messages.length === 1);
    theirs.send(text(`pong ${i}`));
    await net.until(() => here.messages.length === 1);
    assert.equal(str(there.messages[0]), `ping ${i}`);
    assert.equal(str(here.messages[0]), `pong ${i}`);
  }
  for (const node of [a, b]) {
    const stats = node.endpoint.stats();
    assert.equal(stats.halfOpen + stats.dialing, 0, "no handshake left");
    assert.equal(stats.connections, 2);
    assert.equal(node.registry.stats().byKind["udp-session"], stats.sessions);
  }
  const initiations = net.handshakes[1];
  const again = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.equal(net.handshakes[1], initiations, "a cached secret reused");
  again.close();
  ab.close();
  ba.close();
  await net.until(() => a.endpoint.stats().connections === 0);
  await net.until(() => b.endpoint.stats().connections === 0);
  assertEmpty(net, a, b);
});
