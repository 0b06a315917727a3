import assert from "node:assert/strict";
import {
  designatorKey,
  NOISE_TCP_PROLOGUE,
  NoiseConnection,
  NoiseTcpNetlayer,
  type NoiseTcpOptions,
} from "../../netlayers/noise_tcp.ts";
import type { Connection } from "../../netlayers/types.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { NoiseError } from "../../netlayers/noise/errors.ts";
import { CookieInitiator } from "../../netlayers/noise/cookie.ts";
import { PeerInitiator } from "../../netlayers/noise/peer_handshake.ts";
import type { NoiseTransport } from "../../netlayers/noise/transport.ts";
import {
  encodeFrame,
  FRAME_COOKIE,
  FRAME_INITIATION,
  FRAME_RECORD,
  FRAME_RESPONSE,
  FrameReader,
  sealRecords,
  writeAll,
} from "../../netlayers/_noise_tcp_wire.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import { ed25519PublicToX25519 } from "../../protocol/ed25519_to_x25519.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { runConformance } from "./_conformance.ts";
import type { PairOptions } from "./_conformance.ts";
import { Inbox } from "./_inbox.ts";
import { countingCrypto, makeIdentity } from "./noise/_fixtures.ts";

function accepting(netlayer: NoiseTcpNetlayer): Promise<Connection> {
  return new Promise((resolve) => netlayer.onAccept(resolve));
}

/** Collects inbound handshake failures, resolving each waiter in turn. */
function failures() {
  const seen: Error[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    onHandshakeFailure: (error: Error) => {
      seen.push(error);
      wake?.();
    },
    async next(n = 1): Promise<Error> {
      while (seen.length < n) await new Promise<void>((r) => wake = r);
      return seen[n - 1];
    },
  };
}

function portOf(netlayer: NoiseTcpNetlayer): number {
  return Number(netlayer.location.hints.port);
}

/** A dialer under the test's control: IK done by hand, records sealed by hand. */
async function rawDial(server: NoiseTcpNetlayer) {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: portOf(server),
  });
  const remote = designatorKey(server.location.designator);
  const initiator = new PeerInitiator(nativeCrypto, {
    identity: makeIdentity(),
    remoteIdentity: remote,
    prologue: NOISE_TCP_PROLOGUE,
  });
  const cookie = new CookieInitiator(nativeCrypto, {
    remoteStaticPublicKey: ed25519PublicToX25519(remote),
    clock: new ManualClock(0),
  });
  const sent: Uint8Array[] = [];
  const send = async (bytes: Uint8Array) => {
    sent.push(bytes);
    await writeAll(conn, bytes);
  };
  await send(encodeFrame(FRAME_INITIATION, cookie.stamp(initiator.start())));
  const reader = new FrameReader(conn);
  const reply = await reader.next();
  assert.equal(reply?.type, FRAME_RESPONSE);
  const { established } = initiator.receive(reply!.body.slice());
  const transport: NoiseTransport = established.transport;
  await send(sealRecords(transport, new Uint8Array(0)));
  const peerClosed = (async () => {
    try {
      while (await reader.next() !== null) { /* discard */ }
    } catch { /* closed locally or cut */ }
  })();
  let closed = false;
  return {
    conn,
    transport,
    sent,
    send,
    peerClosed,
    async close() {
      if (!closed) {
        closed = true;
        conn.close();
        transport.close();
      }
      await peerClosed;
    },
  };
}

const factory = {
  stream: true,
  framing: "bare" as const,
  async makePair(options: PairOptions = {}) {
    const server = NoiseTcpNetlayer.listen({
      maxLength: options.serverMaxLength,
    });
    const client = NoiseTcpNetlayer.listen();
    const accepted = accepting(server);
    const clientConnection = await client.connect(server.location);
    return {
      client: clientConnection,
      server: await accepted,
      async dispose() {
        await Promise.all([client.close(), server.close()]);
        assert.equal(client.connectionCount + server.connectionCount, 0);
        assert.equal(server.registry.stats().live, 0);
        assert.equal(client.registry.stats().live, 0);
      },
    };
  },
  async makeRawPair(options: PairOptions = {}) {
    const server = NoiseTcpNetlayer.listen({
      maxLength: options.serverMaxLength,
    });
    const accepted = accepting(server);
    const raw = await rawDial(server);
    return {
      server: await accepted,
      // The raw side's bytes are the server's plaintext input, one record per write.
      writeRaw: (bytes: Uint8Array) =>
        raw.send(sealRecords(raw.transport, bytes)),
      peerClosed: raw.peerClosed,
      closeRaw: () => raw.close(),
      dispose: () => server.close(),
    };
  },
};

runConformance("noise-tcp", factory);

async function withServer(
  options: NoiseTcpOptions,
  fn: (server: NoiseTcpNetlayer) => Promise<void>,
): Promise<void> {
  const server = NoiseTcpNetlayer.listen(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
  assert.equal(server.registry.stats().live, 0);
}

Deno.test("noise-tcp: location names the listener's Ed25519 key and real port", async () => {
  const identity = nativeCrypto.ed25519.generateKeyPair();
  await withServer({ identity }, (server) => {
    assert.equal(server.location.transport, "noise-tcp");
    assert.equal(server.location.designator, encodeBase32(identity.publicKey));
    assert.ok(portOf(server) > 0);
    return Promise.resolve();
  });
});

Deno.test("noise-tcp: both sides learn each other's identity, and keys are zeroed at the end", async () => {
  const client = NoiseTcpNetlayer.listen();
  await withServer({}, async (server) => {
    const accepted = accepting(server);
    const dialled = await client.connect(server.location) as NoiseConnection;
    const answered = await accepted as NoiseConnection;
    assert.equal(dialled.remoteDesignator, server.location.designator);
    assert.equal(answered.remoteDesignator, client.location.designator);
    const inbox = new Inbox(answered);
    dialled.send(encode("hello"));
    assert.deepEqual(await inbox.take(1), ["hello"]);
    assert.equal(dialled.keysZeroed, false);
    await dialled.close();
    await inbox.closeReason;
    assert.equal(dialled.keysZeroed && answered.keysZeroed, true);
  });
  await client.close();
  assert.equal(client.registry.stats().live, 0);
});

Deno.test("noise-tcp: connectWithoutKey() uses XX and learns the responder's key", async () => {
  const client = NoiseTcpNetlayer.listen();
  await withServer({}, async (server) => {
    const accepted = accepting(server);
    const dialled = await client.connectWithoutKey({
      host: "127.0.0.1",
      port: portOf(server),
    });
    const answered = await accepted as NoiseConnection;
    assert.equal(dialled.remoteDesignator, server.location.designator);
    assert.equal(answered.remoteDesignator, client.location.designator);
    await Promise.all([dialled.close(), answered.close()]);
  });
  await client.close();
});

Deno.test("noise-tcp: connect() rejects a designator that is not an Ed25519 key", async () => {
  const client = NoiseTcpNetlayer.listen();
  try {
    await assert.rejects(
      client.connect({
        transport: "noise-tcp",
        designator: "not-a-key",
        hints: { host: "127.0.0.1", port: "1" },
      }),
      TypeError,
    );
    await assert.rejects(
      client.connect({ ...client.location, transport: "tcp-testing-only" }),
      TypeError,
    );
  } finally {
    await client.close();
  }
});

Deno.test("noise-tcp: a wrong key in the locator (impersonation) fails the handshake", async () => {
  const client = NoiseTcpNetlayer.listen();
  const seen = failures();
  await withServer(
    { onHandshakeFailure: seen.onHandshakeFailure },
    async (impostor) => {
      const victim = encodeBase32(
        nativeCrypto.ed25519.generateKeyPair().publicKey,
      );
      const error = await client.connect({
        ...impostor.location,
        designator: victim,
      })
        .then(() => undefined, (e) => e);
      assert.ok(error instanceof ConnectFailedError);
      assert.ok(error.cause instanceof NoiseError);
      assert.equal(error.cause.code, "identity-mismatch");
      assert.equal(
        (await seen.next()).message,
        "Initiation mac1 does not verify",
      );
      assert.equal(impostor.connectionCount, 0);
    },
  );
  await client.close();
  assert.equal(client.registry.stats().live, 0);
});

Deno.test("noise-tcp: a tampered initiation is dropped before any Diffie-Hellman", async () => {
  const { crypto, dhCalls } = countingCrypto(nativeCrypto);
  const seen = failures();
  await withServer(
    { crypto, onHandshakeFailure: seen.onHandshakeFailure },
    async (server) => {
      const remote = designatorKey(server.location.designator);
      const initiator = new PeerInitiator(nativeCrypto, {
        identity: makeIdentity(),
        remoteIdentity: remote,
        prologue: NOISE_TCP_PROLOGUE,
      });
      const stamped = new CookieInitiator(nativeCrypto, {
        remoteStaticPublicKey: ed25519PublicToX25519(remote),
        clock: new ManualClock(0),
      }).stamp(initiator.start());
      initiator.destroy();
      stamped[40] ^= 1;
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      await writeAll(conn, encodeFrame(FRAME_INITIATION, stamped));
      const error = await seen.next();
      assert.ok(error instanceof NoiseError);
      assert.equal(error.code, "decrypt-failed");
      assert.equal(await conn.read(new Uint8Array(16)), null);
      conn.close();
      assert.equal(dhCalls(), 0);
    },
  );
});

Deno.test("noise-tcp: a replayed handshake is rejected and never accepted", async () => {
  const seen = failures();
  await withServer(
    { onHandshakeFailure: seen.onHandshakeFailure },
    async (server) => {
      const accepted: Connection[] = [];
      server.onAccept((c) => accepted.push(c));
      const honest = await rawDial(server);
      const replay = await Deno.connect({
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      for (const bytes of honest.sent) await writeAll(replay, bytes);
      const error = await seen.next();
      assert.ok(error instanceof NoiseError);
      assert.equal(error.code, "decrypt-failed");
      replay.close();
      await honest.close();
      assert.equal(accepted.length, 1);
      await accepted[0].close();
    },
  );
});

Deno.test("noise-tcp: garbage bytes give a clear error and a closed connection", async () => {
  const seen = failures();
  await withServer(
    { onHandshakeFailure: seen.onHandshakeFailure },
    async (server) => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      await writeAll(conn, new TextEncoder().encode("]]]not syrup"));
      const error = await seen.next();
      assert.ok(error instanceof NoiseError);
      assert.equal(error.code, "unexpected-message");
      assert.match(error.message, /frame type "93" at byte 0/);
      assert.equal(await conn.read(new Uint8Array(16)), null);
      conn.close();
    },
  );
});

for (
  const [name, code, mangle] of [
    ["replayed", "replay", (a: Uint8Array, _b: Uint8Array) => [a, a]],
    ["reordered", "reorder", (a: Uint8Array, b: Uint8Array) => [b, a]],
    ["tampered", "decrypt-failed", (a: Uint8Array, _b: Uint8Array) => {
      const bad = a.slice();
      bad[bad.length - 1] ^= 1;
      return [bad];
    }],
  ] as const
) {
  Deno.test(`noise-tcp: a ${name} transport record closes the connection with "${code}"`, async () => {
    await withServer({}, async (server) => {
      const accepted = accepting(server);
      const raw = await rawDial(server);
      const connection = await accepted as NoiseConnection;
      const inbox = new Inbox(connection);
      const a = sealRecords(raw.transport, encode("first"));
      const b = sealRecords(raw.transport, encode("second"));
      for (const frame of mangle(a, b)) await raw.send(frame);
      const reason = await inbox.closeReason;
      assert.ok(reason instanceof NoiseError);
      assert.equal(reason.code, code);
      assert.equal(connection.keysZeroed, true);
      assert.ok(inbox.messages.length <= 1);
      await raw.close();
    });
  });
}

Deno.test("noise-tcp: a flood of initiations under load costs no DH and no state, and an honest peer still connects", async () => {
  const { crypto, dhCalls } = countingCrypto(nativeCrypto);
  const client = NoiseTcpNetlayer.listen();
  await withServer({ crypto }, async (server) => {
    server.forceUnderLoad = true;
    const remote = designatorKey(server.location.designator);
    const initiator = new PeerInitiator(nativeCrypto, {
      identity: makeIdentity(),
      remoteIdentity: remote,
      prologue: NOISE_TCP_PROLOGUE,
    });
    const initiation = encodeFrame(
      FRAME_INITIATION,
      new CookieInitiator(nativeCrypto, {
        remoteStaticPublicKey: ed25519PublicToX25519(remote),
        clock: new ManualClock(0),
      }).stamp(initiator.start()),
    );
    initiator.destroy();
    const floodOne = async () => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      try {
        await writeAll(conn, initiation);
        const reader = new FrameReader(conn);
        const frame = await reader.next();
        assert.equal(frame?.type, FRAME_COOKIE);
        assert.equal(await reader.next(), null);
      } finally {
        conn.close();
      }
    };
    const accepted = accepting(server);
    const [honest] = await Promise.all([
      client.connect(server.location),
      ...Array.from({ length: 40 }, floodOne),
    ]);
    const answered = await accepted;
    // Only the honest IK handshake did public-key work: es, ss, ee, se.
    assert.equal(dhCalls(), 4);
    assert.equal(server.registry.stats().live, 0);
    await Promise.all([honest.close(), answered.close()]);
  });
  await client.close();
});

Deno.test("noise-tcp: a handshake that stalls times out by the clock and releases its registry entry", async () => {
  const clock = new ManualClock(0);
  const seen = failures();
  await withServer(
    { clock, onHandshakeFailure: seen.onHandshakeFailure },
    async (server) => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      // An XX initiation, then silence where message 3 belongs.
      const initiator = new PeerInitiator(nativeCrypto, {
        identity: makeIdentity(),
        prologue: NOISE_TCP_PROLOGUE,
      });
      const stamped = new CookieInitiator(nativeCrypto, {
        remoteStaticPublicKey: new Uint8Array(32),
        clock,
      }).stamp(initiator.start());
      await writeAll(conn, encodeFrame(FRAME_INITIATION, stamped));
      const reader = new FrameReader(conn);
      assert.equal((await reader.next())?.type, FRAME_RESPONSE);
      assert.equal(server.registry.stats().live, 1);
      clock.advance(5000);
      const error = await seen.next();
      assert.ok(error instanceof NoiseError);
      assert.equal(error.code, "timeout");
      assert.equal(server.registry.stats().live, 0);
      assert.equal(await reader.next(), null);
      conn.close();
      initiator.destroy();
    },
  );
});

Deno.test("noise-tcp: a 4 MiB message spans records and arrives whole", async () => {
  await withServer({}, async (server) => {
    const accepted = accepting(server);
    const raw = await rawDial(server);
    const connection = await accepted;
    const inbox = new Inbox(connection);
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i);
    const frames = sealRecords(raw.transport, encode(big));
    assert.ok(frames.length > big.length);
    assert.equal(frames[2], FRAME_RECORD);
    await raw.send(frames);
    assert.deepEqual(await inbox.take(1), [big]);
    await raw.close();
    await connection.close();
  });
});

Deno.test("noise-tcp: a message spanning several records arrives whole after small ones", async () => {
  const client = NoiseTcpNetlayer.listen();
  await withServer({}, async (server) => {
    const accepted = accepting(server);
    const dialled = await client.connect(server.location);
    const inbox = new Inbox(await accepted);
    const big = new Uint8Array(200_000).map((_, i) => i * 7);
    dialled.send(encode("small"));
    dialled.send(encode(big));
    dialled.send(encode("after"));
    assert.deepEqual(await inbox.take(3), ["small", big, "after"]);
    await dialled.close();
    await inbox.closeReason;
  });
  await client.close();
});
