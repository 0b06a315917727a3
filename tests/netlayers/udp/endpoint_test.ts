import assert from "node:assert/strict";
import { handshakeDeadline } from "../../../netlayers/udp/connection_machine.ts";
import { MAX_ACCEPTED_CONNECTIONS } from "../../../netlayers/udp/session_cache.ts";
import { assertEmpty, inbox, Net } from "./_net.ts";
import { patterned } from "./_pair.ts";
import { Rogue } from "./_hostile.ts";
import { nativeCrypto } from "../../../crypto/native.ts";
import { InitiatorHandshake } from "../../../netlayers/udp/handshake_roles.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("UdpEndpoint connects with IK and carries messages both ways", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.deepEqual(session.remoteKey, b.key);
  assert.equal(session.outbound, true);
  const fromB = inbox(session);
  session.send(text("hello"));
  await net.until(() => b.accepted.length === 1);
  const accepted = b.accepted[0];
  assert.deepEqual(accepted.remoteKey, a.key);
  assert.equal(accepted.outbound, false);
  const fromA = inbox(accepted);
  await net.until(() => fromA.messages.length === 1);
  assert.equal(str(fromA.messages[0]), "hello", "replayed on attach");
  accepted.send(text("world"));
  await net.until(() => fromB.messages.length === 1);
  assert.equal(str(fromB.messages[0]), "world");
  assert.equal(net.handshakes[1], 1, "one initiation");
  assert.equal(a.endpoint.stats().handshakesCompleted, 1);
  assert.equal(b.endpoint.stats().handshakesCompleted, 1);
  session.close();
  await net.until(() => fromA.closed !== undefined);
  assert.equal(
    (fromA.closed as { code: string }).code,
    "OCAPN_NETLAYER_CLOSED",
  );
  assert.equal(fromB.closed, "clean");
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint connects with XX when the peer's key is unknown", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const session = await net.settle(a.endpoint.connect({ address: b.address }));
  assert.deepEqual(session.remoteKey, b.key, "key learned and authenticated");
  session.send(text("xx"));
  await net.until(() => b.accepted.length === 1);
  const got = inbox(b.accepted[0]);
  await net.until(() => got.messages.length === 1);
  assert.deepEqual(b.accepted[0].remoteKey, a.key);
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint retransmits a lost initiation", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  let dropped = 0;
  net.filter = (d) => !(d.bytes[0] === 1 && dropped++ === 0);
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.equal(dropped, 2, "the first was dropped, the resend went through");
  assert.deepEqual(session.remoteKey, b.key);
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint rejects connect at the handshake deadline and leaks nothing", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1", { handshakeRetransmit: 100 });
  const b = net.node("10.0.0.2");
  net.filter = () => false;
  const started = net.clock.now();
  await assert.rejects(
    net.settle(a.endpoint.connect({ key: b.key, address: b.address })),
    (e: Error & { code: string }) => e.code === "OCAPN_UDP_HANDSHAKE_TIMEOUT",
  );
  assert.equal(
    net.clock.now() - started,
    100 + 200 + 400 + 800 + 1600,
    "5 flights, each wait twice the one before",
  );
  assert.equal(net.handshakes[1], 5);
  assert.equal(a.registry.stats().live, 0);
  assert.equal(a.endpoint.stats().dialing, 0);
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint under forced load answers with a cookie and then accepts mac2", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2", { forceCookies: true });
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.deepEqual(session.remoteKey, b.key);
  assert.equal(b.endpoint.stats().cookieReplies, 1);
  assert.equal(net.handshakes[3], 1);
  assert.equal(net.handshakes[1], 2, "the initiation, then again with mac2");
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint spends no DH on a spoofed flood under load and stays bounded", async () => {
  const net = new Net();
  const b = net.node("10.0.0.2", { loadHalfOpen: 4, maxHalfOpen: 8 });
  const a = net.node("10.0.0.1");
  const attacker = net.node("10.6.6.6", { handshakeAttempts: 1 });
  // Capture one valid initiation per fresh ephemeral (one flight per dial),
  // then replay them from many spoofed addresses.
  const captured: Uint8Array[] = [];
  net.filter = (d) => {
    if (d.from.hostname !== "10.6.6.6") return true;
    if (d.bytes[0] === 1) captured.push(d.bytes);
    return false;
  };
  for (let i = 0; i < 8; i++) {
    attacker.endpoint.connect({ key: b.key, address: b.address }).catch(
      () => {},
    );
    net.clock.advance(6_000);
    await Promise.resolve();
  }
  net.filter = () => true;
  assert.equal(captured.length, 8);
  // Fill the half-open table to the load threshold, then flood.
  for (let i = 0; i < 4; i++) {
    b.endpoint.receive(captured[i], { hostname: `172.16.0.${i}`, port: 1 });
  }
  const dhBefore = b.endpoint.stats().dhOperations;
  assert.equal(b.endpoint.stats().halfOpen, 4);
  for (let i = 0; i < 2000; i++) {
    const spoofed = captured[i % captured.length];
    b.endpoint.receive(spoofed, {
      hostname: `192.168.${i >> 8}.${i & 255}`,
      port: 9,
    });
  }
  const stats = b.endpoint.stats();
  assert.equal(stats.dhOperations, dhBefore, "no public-key work");
  assert.equal(stats.cookieReplies, 2000);
  assert.ok(stats.halfOpen <= 8);
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.deepEqual(session.remoteKey, b.key, "an honest peer still connects");
  assertEmpty(net, a, b, attacker);
});

Deno.test("UdpEndpoint counts and drops random datagrams without crypto", async () => {
  const net = new Net();
  const b = net.node("10.0.0.2");
  const random = (n: number, type: number) => {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    bytes[0] = type;
    bytes[1] = bytes[2] = bytes[3] = 0;
    return bytes;
  };
  const from = { hostname: "10.9.9.9", port: 1 };
  for (let i = 0; i < 300; i++) {
    b.endpoint.receive(random(1 + (i % 200), i % 8), from);
    const initiation = random(169, 1);
    initiation[8] = 1 + (i % 2);
    b.endpoint.receive(initiation, from);
  }
  b.endpoint.receive(new Uint8Array(0), from);
  const stats = b.endpoint.stats();
  assert.equal(stats.dhOperations, 0);
  assert.equal(stats.halfOpen, 0);
  assert.ok(stats.cheapRejects > 200);
  assert.ok(stats.macRejects >= 300);
  await net.until(() => true);
  assertEmpty(net, b);
});

Deno.test("UdpEndpoint answers a replayed initiation without a second session", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  let initiation: Uint8Array | undefined;
  net.filter = (d) => {
    if (d.bytes[0] === 1) initiation ??= d.bytes;
    return true;
  };
  await net.settle(a.endpoint.connect({ key: b.key, address: b.address }));
  const dh = b.endpoint.stats().dhOperations;
  b.endpoint.receive(initiation!, a.address);
  b.endpoint.receive(initiation!, { hostname: "10.7.7.7", port: 7 });
  assert.equal(b.endpoint.stats().replays, 2);
  assert.equal(b.endpoint.stats().dhOperations, dh, "deduplicated");
  net.clock.advance(60_000);
  b.endpoint.receive(initiation!, a.address);
  net.clock.advance(handshakeDeadline({}) + 1);
  assert.equal(b.endpoint.stats().sessions, 1, "still one session");
  assert.equal(b.endpoint.stats().handshakesCompleted, 1);
  assert.equal(
    b.endpoint.stats().halfOpen,
    0,
    "the replay's half-open expired",
  );
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint fails a connect to an address with the wrong key", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1", { handshakeRetransmit: 50 });
  const b = net.node("10.0.0.2");
  const c = net.node("10.0.0.3");
  await assert.rejects(
    net.settle(a.endpoint.connect({ key: c.key, address: b.address })),
    (e: Error & { code: string }) => e.code === "OCAPN_UDP_HANDSHAKE_TIMEOUT",
  );
  assert.equal(b.endpoint.stats().dhOperations, 0, "mac1 stopped it");
  assert.equal(b.endpoint.stats().macRejects, 5);
  assertEmpty(net, a, b, c);
});

Deno.test("UdpEndpoint delivers mixed sizes intact and in order at 5% loss", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  net.loss = 0.05;
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  const sizes = [0, 1, 1100, 5000, 70_000, 300, 250_000, 17, 2400];
  sizes.forEach((size, i) => session.send(patterned(size, i)));
  await net.until(() => b.accepted.length === 1);
  const got = inbox(b.accepted[0]);
  await net.until(() => got.messages.length === sizes.length, 120_000);
  got.messages.forEach((m, i) => assert.deepEqual(m, patterned(sizes[i], i)));
  assert.throws(
    () => session.send(new Uint8Array(2 * 1024 * 1024)),
    RangeError,
  );
  assertEmpty(net, a, b);
});

// Found by hostile_test.ts (UDP_FUZZ_SEED=1211): the dialer's first
// connection dropped its open marker's promise, which rejected unhandled
// when the channel failed with the peer silent.
Deno.test("UdpEndpoint leaves no unhandled rejection when its confirmation never arrives", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const tuning = { handshakeRetransmit: 200, data: { silentPeerTimeout: 500 } };
  const net = new Net();
  const a = net.node("10.0.0.1", tuning);
  const b = net.node("10.0.0.2", tuning);
  net.filter = (d) => !(d.bytes[0] === 2 && d.to === b.address);
  await assert.rejects(
    net.settle(a.endpoint.connect({ key: b.key, address: b.address })),
    (e: Error & { code: string }) => e.code === "OCAPN_UDP_HANDSHAKE_TIMEOUT",
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  globalThis.removeEventListener("unhandledrejection", onUnhandled);
  assert.deepEqual(unhandled, []);
  assertEmpty(net, a, b);
});

Deno.test("UdpEndpoint refuses a peer's connection past MAX_ACCEPTED_CONNECTIONS with a close", async () => {
  const net = new Net();
  const a = net.node("10.0.0.1");
  const b = net.node("10.0.0.2");
  const peer = { key: b.key, address: b.address };
  for (let i = 0; i < MAX_ACCEPTED_CONNECTIONS; i++) {
    await net.settle(a.endpoint.connect(peer));
  }
  await net.until(() => b.accepted.length === MAX_ACCEPTED_CONNECTIONS);
  const extra = inbox(await net.settle(a.endpoint.connect(peer)));
  await net.until(() => extra.closed !== undefined);
  assert.equal(
    (extra.closed as { code: string }).code,
    "OCAPN_NETLAYER_CLOSED",
  );
  assert.equal(b.accepted.length, MAX_ACCEPTED_CONNECTIONS, "none more");
  assert.equal(b.endpoint.stats().connections, MAX_ACCEPTED_CONNECTIONS);
  assertEmpty(net, a, b);
});

// Found by hostile_test.ts (UDP_FUZZ_SEED=1 once its flood answered
// cookies): one address that answers cookies filled maxHalfOpen, so a
// newcomer's initiations were dropped until the flood's half-opens expired.
Deno.test("UdpEndpoint under load keeps one address from filling the half-open table", async () => {
  const net = new Net();
  const tuning = { loadHalfOpen: 2, maxHalfOpen: 8, maxHalfOpenPerAddress: 3 };
  const b = net.node("10.0.0.2", tuning);
  const a = net.node("10.0.0.1");
  const rogue = new Rogue(net, b, { host: "10.6.6.6", acks: false });
  net.filter = (d) => {
    if (d.to.hostname !== "10.6.6.6") return true;
    rogue.inbox.push(d.bytes.slice());
    return false;
  };
  for (let i = 0; i < 12; i++) {
    const dial = new InitiatorHandshake(nativeCrypto, {
      clock: net.clock,
      identity: rogue.identity,
      remoteKey: b.key,
      localCode: 100 + i,
    });
    rogue.flood.push(dial);
    rogue.send(dial.initiation());
  }
  for (let t = 0; t < 10; t++) {
    net.clock.advance(1);
    rogue.poll();
  }
  const stats = b.endpoint.stats();
  // Two before load (unproven, so counted against nobody), then its share.
  assert.equal(stats.halfOpen, 2 + 3, "the address holds its share only");
  assert.ok(stats.halfOpenFull > 0);
  const session = await net.settle(
    a.endpoint.connect({ key: b.key, address: b.address }),
  );
  assert.deepEqual(session.remoteKey, b.key, "a newcomer still connects");
  rogue.destroy();
  assertEmpty(net, a, b);
});
