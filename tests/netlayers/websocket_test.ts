/**
 * The websocket netlayer (netlayers/websocket.ts): the shared conformance
 * suite, the location it advertises, the server's half of the designator
 * proof, and frames that break the one-message-per-binary-frame rule.
 */
import assert from "node:assert/strict";
import {
  ConnectFailedError,
  ConnectionClosedError,
} from "../../netlayers/errors.ts";
import { nobleCrypto } from "../../crypto/mod.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { makeChallenge } from "../../netlayers/_websocket_auth.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { record, SyrupRecord } from "../../protocol/syrup/value.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { runConformance } from "./_conformance.ts";
import { Inbox } from "./_inbox.ts";
import { accepting } from "./_netlayer_fixtures.ts";
import {
  authenticatedRawSocket,
  crypto,
  event,
  factory,
  listen,
  rawSocket,
} from "./_websocket_fixtures.ts";

runConformance("websocket", factory);

Deno.test("WebSocketNetlayer.location names the key in base32 and the real port in the url hint", async () => {
  const identity = crypto.ed25519.generateKeyPair();
  const netlayer = listen({ identity });
  try {
    const { transport, designator, hints } = netlayer.location;
    assert.equal(transport, "websocket");
    assert.equal(designator, encodeBase32(identity.publicKey));
    assert.match(designator, /^[a-z2-7]{52}$/);
    const url = new URL(hints.url);
    assert.equal(url.protocol, "ws:");
    assert.equal(url.hostname, "127.0.0.1");
    assert.notEqual(Number(url.port), 0);
    assert.deepEqual(Object.keys(hints), ["url"]);
  } finally {
    await netlayer.close();
  }
});

Deno.test("WebSocketNetlayer.listen() advertises a given url verbatim", async () => {
  const netlayer = listen({ url: "wss://example.org/ocapn" });
  try {
    assert.equal(netlayer.location.hints.url, "wss://example.org/ocapn");
  } finally {
    await netlayer.close();
  }
});

Deno.test("WebSocketNetlayer.listen() rejects an identity whose keys do not match", () => {
  const a = crypto.ed25519.generateKeyPair();
  const b = crypto.ed25519.generateKeyPair();
  assert.throws(
    () =>
      listen({ identity: { secretKey: a.secretKey, publicKey: b.publicKey } }),
    TypeError,
  );
});

Deno.test("the server answers <init:peer-auth> with a desc:sig-envelope over the exact challenge bytes", async () => {
  const identity = crypto.ed25519.generateKeyPair();
  const netlayer = listen({ identity });
  const accepted = accepting(netlayer);
  const raw = await rawSocket(netlayer.location.hints.url);
  try {
    const challenge = makeChallenge(crypto);
    const payload = (decode(challenge) as SyrupRecord).fields[0] as Uint8Array;
    const answered = event(raw.ws, "message");
    raw.ws.send(challenge);
    const answer = new Uint8Array((await answered).data as ArrayBuffer);
    // The wire form both references read: the echoed challenge record, then
    // [sig-val [eddsa [r <32>] [s <32>]]].
    const text = new TextDecoder("latin1").decode(answer);
    const head = "<17'desc:sig-envelope<14'init:peer-auth32:";
    assert.equal(text.slice(0, head.length), head);
    assert.deepEqual(answer.slice(head.length, head.length + 32), payload);
    assert.equal(
      text.slice(head.length + 32, head.length + 32 + 26),
      ">[7'sig-val[5'eddsa[1'r32:",
    );
    const envelope = decode(answer) as SyrupRecord;
    const [, [, [, r], [, s]]] = envelope.fields[1] as [
      symbol,
      [symbol, [symbol, Uint8Array], [symbol, Uint8Array]],
    ];
    const sig = new Uint8Array([...r, ...s]);
    assert.ok(crypto.ed25519.verify(identity.publicKey, challenge, sig));
    (await accepted).attach({ message() {}, error() {}, close() {} });
  } finally {
    await raw.close();
    await netlayer.close();
  }
});

for (
  const [what, first] of [
    ["garbage", new TextEncoder().encode("]]]not syrup")],
    ["a text frame", "<14'init:peer-auth32:"],
    ["a raw 64-byte challenge (Goblins v0.17)", crypto.randomBytes(64)],
    [
      "a challenge of 4 bytes",
      encode(record("init:peer-auth", new Uint8Array(4))),
    ],
    [
      "an oversized challenge",
      encode(record("init:peer-auth", new Uint8Array(2000))),
    ],
  ] as const
) {
  Deno.test(`the server closes, accepting nothing, when the first frame is ${what}`, async () => {
    const netlayer = listen();
    let accepted = 0;
    netlayer.onAccept(() => accepted++);
    const raw = await rawSocket(netlayer.location.hints.url);
    try {
      raw.ws.send(first);
      const closeEvent = await raw.closed;
      assert.equal(closeEvent.code, 1000);
      assert.equal(accepted, 0);
      assert.equal(netlayer.connectionCount, 0);
    } finally {
      await raw.close();
      await netlayer.close();
    }
  });
}

Deno.test("the server closes a socket that sends no challenge before the deadline", async () => {
  const clock = new ManualClock();
  const netlayer = listen({ clock, handshakeTimeoutMs: 3000 });
  const raw = await rawSocket(netlayer.location.hints.url);
  try {
    assert.equal(clock.pending, 1);
    clock.advance(3000);
    assert.equal((await raw.closed).reason, "no challenge");
    assert.equal(clock.pending, 0);
  } finally {
    await raw.close();
    await netlayer.close();
  }
});

Deno.test("a frame holding two messages gives a SyntaxError event and close", async () => {
  const { server, writeRaw, peerClosed, closeRaw, dispose } = await factory
    .makeRawPair();
  const inbox = new Inbox(server);
  try {
    await writeRaw(new Uint8Array([...encode("one"), ...encode("two")]));
    assert.ok(await inbox.error instanceof SyntaxError);
    await peerClosed;
    assert.deepEqual(inbox.messages, []);
  } finally {
    await closeRaw();
    await dispose();
  }
});

Deno.test("half a message in a frame gives a SyntaxError event and close", async () => {
  const { server, writeRaw, peerClosed, closeRaw, dispose } = await factory
    .makeRawPair();
  const inbox = new Inbox(server);
  try {
    await writeRaw(encode("whole").subarray(0, 3));
    assert.ok(await inbox.error instanceof SyntaxError);
    await peerClosed;
  } finally {
    await closeRaw();
    await dispose();
  }
});

Deno.test("an empty binary frame gives a SyntaxError event and close", async () => {
  const { server, writeRaw, peerClosed, closeRaw, dispose } = await factory
    .makeRawPair();
  const inbox = new Inbox(server);
  try {
    await writeRaw(encode("before"));
    await writeRaw(new Uint8Array());
    await writeRaw(encode("after"));
    assert.ok(await inbox.error instanceof SyntaxError);
    await peerClosed;
    assert.deepEqual(inbox.messages, ["before"]);
  } finally {
    await closeRaw();
    await dispose();
  }
});

Deno.test("a text frame after the handshake gives a TypeError event and close", async () => {
  const server = listen();
  const accepted = accepting(server);
  const raw = await authenticatedRawSocket(server);
  try {
    raw.ws.send(encode("fine"));
    raw.ws.send('3"bad');
    const inbox = new Inbox(await accepted);
    const error = await inbox.error;
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /Text frame/);
    assert.deepEqual(inbox.messages, ["fine"]);
    assert.equal(await inbox.closeReason, error);
    assert.equal((await raw.closed).reason, "text frame");
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("a noble-crypto client and a native-crypto server interoperate", async () => {
  const server = listen();
  const client = listen({ crypto: nobleCrypto });
  const accepted = accepting(server);
  try {
    const c = new Inbox(await client.connect(server.location));
    const s = new Inbox(await accepted);
    (await accepted).send(encode("to client"));
    assert.deepEqual(await c.take(1), ["to client"]);
    assert.equal(s.messages.length, 0);
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
});

Deno.test("netlayer close() closes its connections and the peer sees ConnectionClosedError", async () => {
  const server = listen();
  const client = listen();
  const accepted = accepting(server);
  const c = new Inbox(await client.connect(server.location));
  const s = new Inbox(await accepted);
  await server.close();
  assert.equal(await s.closeReason, undefined);
  assert.ok(await c.closeReason instanceof ConnectionClosedError);
  assert.equal(server.connectionCount, 0);
  await assert.rejects(client.connect(server.location), ConnectFailedError);
  await assert.rejects(server.connect(client.location), ConnectFailedError);
  await client.close();
  assert.equal(client.connectionCount, 0);
});

Deno.test("a plain HTTP request gets 426 Upgrade Required", async () => {
  const netlayer = listen();
  try {
    const url = netlayer.location.hints.url.replace("ws:", "http:");
    const response = await fetch(url);
    await response.body?.cancel();
    assert.equal(response.status, 426);
  } finally {
    await netlayer.close();
  }
});
