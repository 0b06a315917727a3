/**
 * Dialling a websocket peer (netlayers/websocket_client.ts): the client's
 * half of the designator proof (impersonation and garbage answers fail with
 * PeerAuthError), deadlines on an injected clock, bad locators, and the
 * promise that the client path uses no Deno API.
 */
import assert from "node:assert/strict";
import { dialWebSocket, PeerAuthError } from "../../netlayers/websocket.ts";
import { makeChallenge } from "../../netlayers/_websocket_auth.ts";
import type { OCapNPeer } from "../../netlayers/types.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { signatureToSyrup } from "../../protocol/captp/keys.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { record } from "../../protocol/syrup/value.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { Inbox } from "./_inbox.ts";
import { crypto, fakeServer, listen } from "./_websocket_fixtures.ts";

Deno.test("connect() to a url where another key answers fails with PeerAuthError", async () => {
  const server = listen();
  const client = listen();
  server.onAccept((c) => c.attach({ message() {}, error() {}, close() {} }));
  const impostor = encodeBase32(crypto.ed25519.generateKeyPair().publicKey);
  try {
    await assert.rejects(
      client.connect({ ...server.location, designator: impostor }),
      (error: Error) =>
        error instanceof PeerAuthError &&
        error.code === "OCAPN_WEBSOCKET_PEER_AUTH_FAILED" &&
        error.message.includes(impostor),
    );
    assert.equal(client.connectionCount, 0);
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
});

for (
  const [what, answer] of [
    ["bad Syrup", () => new TextEncoder().encode("]]]not syrup")],
    ["a text frame", () => "hello"],
    ["a record of another label", () => encode(record("op:abort", "no"))],
    [
      "an envelope without a signature",
      (challenge: Uint8Array) =>
        encode(record("desc:sig-envelope", decode(challenge), "sig")),
    ],
  ] as const
) {
  Deno.test(`connect() fails with PeerAuthError when the server answers with ${what}`, async () => {
    const fake = fakeServer(answer);
    const designator = encodeBase32(crypto.ed25519.generateKeyPair().publicKey);
    try {
      await assert.rejects(
        dialWebSocket(
          { transport: "websocket", designator, hints: { url: fake.url } },
          { crypto },
        ),
        PeerAuthError,
      );
    } finally {
      await fake.close();
    }
  });
}

Deno.test("connect() fails with PeerAuthError when the envelope is signed over other bytes", async () => {
  const key = crypto.ed25519.generateKeyPair();
  const fake = fakeServer((challenge) => {
    const other = makeChallenge(crypto);
    const sig = crypto.ed25519.sign(key.secretKey, other);
    return encode(
      record("desc:sig-envelope", decode(challenge), signatureToSyrup(sig)),
    );
  });
  try {
    await assert.rejects(
      dialWebSocket({
        transport: "websocket",
        designator: encodeBase32(key.publicKey),
        hints: { url: fake.url },
      }, { crypto }),
      PeerAuthError,
    );
  } finally {
    await fake.close();
  }
});

Deno.test("connect() times out on the injected clock when the server never answers", async () => {
  const clock = new ManualClock();
  const fake = fakeServer(() => "");
  const designator = encodeBase32(crypto.ed25519.generateKeyPair().publicKey);
  try {
    const dial = dialWebSocket(
      { transport: "websocket", designator, hints: { url: fake.url } },
      { crypto, clock, handshakeTimeoutMs: 5000 },
    );
    await fake.gotChallenge;
    clock.advance(5000);
    await assert.rejects(dial, ConnectFailedError);
    assert.equal(clock.pending, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("a message the server sends on accept reaches the client", async () => {
  const server = listen();
  const client = listen();
  server.onAccept((c) => {
    c.send(encode("hello at once"));
    c.attach({ message() {}, error() {}, close() {} });
  });
  try {
    const inbox = new Inbox(await client.connect(server.location));
    assert.deepEqual(await inbox.take(1), ["hello at once"]);
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
});

Deno.test("netlayer close() gives up a dial in progress with ConnectFailedError", async () => {
  const fake = fakeServer(() => "");
  const client = listen();
  const designator = encodeBase32(crypto.ed25519.generateKeyPair().publicKey);
  try {
    const dial = client.connect({
      transport: "websocket",
      designator,
      hints: { url: fake.url },
    });
    const failed = assert.rejects(dial, ConnectFailedError);
    await fake.gotChallenge;
    await client.close();
    await failed;
  } finally {
    await fake.close();
  }
});

Deno.test("connect() to a port nobody listens on fails with ConnectFailedError", async () => {
  const gone = listen();
  const location = gone.location;
  await gone.close();
  const client = listen();
  try {
    await assert.rejects(client.connect(location), ConnectFailedError);
  } finally {
    await client.close();
  }
});

Deno.test("connect() rejects bad locators with TypeError", async () => {
  const client = listen();
  const designator = encodeBase32(crypto.ed25519.generateKeyPair().publicKey);
  const url = "ws://127.0.0.1:9";
  try {
    for (
      const peer of [
        { transport: "tcp-testing-only", designator, hints: { url } },
        { transport: "websocket", designator, hints: {} },
        { transport: "websocket", designator, hints: { url: "http://x/" } },
        { transport: "websocket", designator: "ABC", hints: { url } },
        { transport: "websocket", designator: "aaaa", hints: { url } },
      ] as OCapNPeer[]
    ) {
      await assert.rejects(client.connect(peer), TypeError);
    }
  } finally {
    await client.close();
  }
});

Deno.test("the client path (websocket_client.ts and its imports) uses no Deno API", async () => {
  const root = new URL("../../netlayers/websocket_client.ts", import.meta.url);
  const seen = new Set<string>();
  const visit = async (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const source = await Deno.readTextFile(url);
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(
      /\/\/.*$/gm,
      "",
    );
    assert.doesNotMatch(code, /\bDeno\./, url.pathname);
    for (const [, spec] of source.matchAll(/from "([^"]+)"/g)) {
      assert.ok(spec.startsWith("."), `${url.pathname} imports "${spec}"`);
      await visit(new URL(spec, url));
    }
  };
  await visit(root);
  assert.ok(seen.size > 5);
});
