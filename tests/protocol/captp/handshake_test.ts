import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import { record } from "../../../protocol/syrup/value.ts";
import { peerToSyrup } from "../../../protocol/locator.ts";
import * as keys from "../../../protocol/captp/keys.ts";
import { opStartSession } from "../../../protocol/captp/operations.ts";
import { far, finish, Harness, makeVat, send } from "./_harness.ts";

function hello(
  location: ReturnType<typeof makeVat>["location"],
  options: { version?: string; badSig?: boolean } = {},
) {
  const loc = peerToSyrup(location);
  const kp = nativeCrypto.ed25519.generateKeyPair();
  const payload = options.badSig
    ? new TextEncoder().encode("i am invalid")
    : keys.locationSigPayload(loc);
  return encode(opStartSession(options.version ?? "1.0", {
    pubkey: keys.publicKeyToSyrup(kp.publicKey),
    location: loc,
    signature: keys.signatureToSyrup(
      nativeCrypto.ed25519.sign(kp.secretKey, payload),
    ),
  }));
}

/** b receives raw bytes from a test-controlled peer; returns b's replies. */
async function injected(input: Uint8Array[], label = "mallory") {
  const h = new Harness();
  const m = makeVat(label);
  const bob = makeVat("bob");
  const [a, b] = h.connect(m, bob, { start: false, maxMessageBytes: 4096 });
  a.abort("stand-in"); // the real peer is the test
  h.queue.length = 0;
  b.start();
  for (const bytes of input) b.handleMessage(bytes);
  await h.ticks();
  const replies = h.queue.filter((w) => w.to === a && w.bytes).map((w) =>
    new TextDecoder().decode(w.bytes!)
  );
  return { h, m, bob, b, replies };
}

const cases: [
  string,
  (loc: ReturnType<typeof makeVat>["location"]) => Uint8Array[],
  RegExp,
][] = [
  ["a wrong version", (l) => [hello(l, { version: "0.9" })], /captp-version/],
  [
    "a bad location signature",
    (l) => [hello(l, { badSig: true })],
    /signature/,
  ],
  [
    "a second start-session",
    (l) => [hello(l), hello(l)],
    /second op:start-session/,
  ],
  ["undecodable bytes", () => [new TextEncoder().encode("<3'op:abort")], /./],
  [
    "an unknown operation",
    (l) => [hello(l), encode(record("op:frobnicate", 1n))],
    /unknown operation/,
  ],
  [
    "a descriptor naming a missing position",
    (
      l,
    ) => [
      hello(l),
      encode(record("op:deliver", record("desc:export", 7n), [], false, false)),
    ],
    /No export at position 7/,
  ],
  ["a message too large", (l) => [hello(l), new Uint8Array(5000)], /exceeds/],
  [
    "a message before start-session",
    () => [encode(record("op:gc-answers", []))],
    /before op:start-session/,
  ],
];

for (const [what, input, reason] of cases) {
  Deno.test(`session aborts with a reason on ${what}`, async () => {
    const vat = makeVat("mallory");
    const { h, m, bob, b, replies } = await injected(input(vat.location));
    const abort = replies.find((r) => r.includes("op:abort"));
    assert.ok(abort, `no op:abort in ${replies.join(" | ")}`);
    assert.match(abort, reason);
    assert.notEqual(b.state, "open");
    await finish(h, [m, bob]);
  });
}

Deno.test("a bad session leaves the vat's other sessions working", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const carol = makeVat("carol");
  const [a] = h.connect(alice, bob);
  const [, bc] = h.connect(carol, bob);
  await h.settle();
  bc.handleMessage(new TextEncoder().encode("garbage!"));
  await h.settle();
  assert.equal(bc.state, "closed");
  const swiss = bob.directory.swiss.publish(far({ ping: () => "pong" }));
  const obj = a.fetch(swiss);
  await h.settle();
  const r = send(await obj, "ping");
  await h.settle();
  assert.equal(await r, "pong");
  alice.finalizer.collectAll();
  await h.settle();
  await finish(h, [alice, bob, carol]);
});

Deno.test("a duplicate session with a live peer is aborted", async () => {
  const h = new Harness();
  const alice = makeVat("alice");
  const bob = makeVat("bob");
  const [a1] = h.connect(alice, bob);
  await h.settle();
  const [a2, b2] = h.connect(alice, bob);
  await h.settle();
  assert.equal(a1.state, "open");
  assert.equal(b2.state, "closed");
  assert.equal(a2.state, "closed");
  assert.ok(h.transcript.some((l) => l.endsWith("op:abort")));
  await finish(h, [alice, bob]);
});

for (const lowerIsOurs of [true, false]) {
  Deno.test(`crossed hellos abort the connection of the lower side ID (${lowerIsOurs ? "ours" : "theirs"})`, async () => {
    for (let attempt = 0; attempt < 64; attempt++) {
      const h = new Harness();
      const alice = makeVat("alice");
      const bob = makeVat("bob");
      const [ab, ba] = h.connect(alice, bob, { start: false }); // alice dialled
      const [bb, aa] = h.connect(bob, alice, { start: false }); // bob dialled
      if (
        (keys.compareBytes(ab.localSideId, bb.localSideId) < 0) !== lowerIsOurs
      ) {
        for (const s of [ab, ba, bb, aa]) s.connectionClosed("retry");
        continue;
      }
      // As in the suite: bob never answers on alice's connection.
      ab.start();
      bb.start();
      aa.start();
      h.queue.splice(h.queue.findIndex((w) => w.to === ba), 1);
      await h.settle();
      if (lowerIsOurs) {
        // Alice's own connection goes; bob's connection to her opens.
        assert.equal(ab.state, "closed");
        assert.deepEqual([aa.state, bb.state], ["open", "open"]);
      } else {
        // Bob's connection is refused; alice keeps waiting on hers.
        assert.deepEqual([aa.state, bb.state], ["closed", "closed"]);
        assert.equal(ab.state, "awaitingPeer");
      }
      await finish(h, [alice, bob]);
      return;
    }
    assert.fail("no key pair fell the wanted way");
  });
}

Deno.test("the handshake times out on the injected clock", async () => {
  const { h, m, bob, b } = await injected([]);
  assert.equal(b.state, "awaitingPeer");
  h.clock.advance(1000);
  assert.notEqual(b.state, "awaitingPeer");
  assert.ok(
    h.queue.some((w) =>
      w.bytes &&
      new TextDecoder().decode(w.bytes).includes("handshake timed out")
    ),
  );
  await finish(h, [m, bob]);
});
