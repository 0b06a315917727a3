/**
 * The noise-udp netlayer (netlayers/noise_udp.ts) over real sockets: the
 * shared conformance suite, the location it advertises, a locator naming
 * the wrong key, a flood of bogus datagrams under load, and the message
 * size limit. The endpoint's own behaviour under a simulated network and
 * clock is in tests/netlayers/udp/endpoint_test.ts.
 */
import assert from "node:assert/strict";
import { nativeCrypto } from "../../crypto/mod.ts";
import {
  ConnectFailedError,
  ConnectionClosedError,
} from "../../netlayers/errors.ts";
import { designatorKey } from "../../netlayers/noise_tcp.ts";
import {
  NOISE_UDP_TRANSPORT,
  NoiseUdpNetlayer,
  type NoiseUdpOptions,
  UdpConnection,
} from "../../netlayers/noise_udp.ts";
import { noiseIdentity } from "../../netlayers/noise/peer_handshake.ts";
import { InitiatorHandshake } from "../../netlayers/udp/handshake_roles.ts";
import { INITIATION_LENGTH } from "../../netlayers/udp/handshake.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { runConformance } from "./_conformance.ts";
import {
  accepting,
  addressOf,
  closeAll,
  factory,
} from "./_noise_udp_fixtures.ts";
import { Inbox } from "./_inbox.ts";

runConformance("noise-udp", factory);

async function withNetlayers(
  options: NoiseUdpOptions[],
  fn: (...netlayers: NoiseUdpNetlayer[]) => Promise<void>,
): Promise<void> {
  const netlayers = options.map((o) => NoiseUdpNetlayer.listen(o));
  try {
    await fn(...netlayers);
  } finally {
    await closeAll(...netlayers);
  }
}

Deno.test("noise-udp: location names the listener's Ed25519 key and real port", async () => {
  const identity = nativeCrypto.ed25519.generateKeyPair();
  await withNetlayers([{ identity }], (netlayer) => {
    const { transport, designator, hints } = netlayer.location;
    assert.equal(transport, NOISE_UDP_TRANSPORT);
    assert.equal(transport, "noise-udp");
    assert.equal(designator, encodeBase32(identity.publicKey));
    assert.equal(hints.host, "127.0.0.1");
    assert.ok(Number(hints.port) > 0);
    return Promise.resolve();
  });
});

Deno.test("noise-udp: both sides learn each other's designator", async () => {
  await withNetlayers([{}, {}], async (server, client) => {
    const accepted = accepting(server);
    const dialled = await client.connect(server.location);
    const answered = await accepted;
    assert.equal(
      (dialled as UdpConnection).remoteDesignator,
      server.location.designator,
    );
    assert.equal(
      (answered as UdpConnection).remoteDesignator,
      client.location.designator,
    );
    await Promise.all([dialled.close(), answered.close()]);
  });
});

Deno.test("noise-udp: connect() rejects another transport and a malformed locator", async () => {
  await withNetlayers([{}], async (client) => {
    await assert.rejects(
      client.connect({ ...client.location, transport: "noise-tcp" }),
      TypeError,
    );
    await assert.rejects(
      client.connect({ ...client.location, designator: "not-a-key" }),
      TypeError,
    );
    await assert.rejects(
      client.connect({ ...client.location, hints: { host: "127.0.0.1" } }),
      TypeError,
    );
  });
});

Deno.test("noise-udp: a wrong key in the locator (impersonation) fails connect with ConnectFailedError", async () => {
  const quick = { handshakeRetransmit: 30, handshakeAttempts: 2 };
  await withNetlayers([{}, { tuning: quick }], async (impostor, client) => {
    const victim = encodeBase32(
      nativeCrypto.ed25519.generateKeyPair().publicKey,
    );
    const error = await client
      .connect({ ...impostor.location, designator: victim })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof ConnectFailedError);
    assert.equal(
      (error.cause as { code?: string }).code,
      "OCAPN_UDP_HANDSHAKE_TIMEOUT",
    );
    // The honest dial afterwards, from the same socket, arrives after the
    // failed initiations, which the impostor dropped on mac1 alone.
    const dialDh = client.endpoint.stats().dhOperations;
    const accepted = accepting(impostor);
    const honest = await client.connect(impostor.location);
    await Promise.all([honest.close(), (await accepted).close()]);
    const stats = impostor.endpoint.stats();
    assert.ok(stats.macRejects >= 1);
    assert.equal(stats.handshakesCompleted, 1);
    assert.equal(
      stats.dhOperations,
      client.endpoint.stats().dhOperations - dialDh,
      "only the honest handshake did public-key work",
    );
  });
});

Deno.test("noise-udp: a 1.5 MiB message crosses intact and one over the limit throws RangeError at send", async () => {
  await withNetlayers([{}, {}], async (server, client) => {
    const accepted = accepting(server);
    const dialled = await client.connect(server.location);
    const inbox = new Inbox(await accepted);
    const big = new Uint8Array(1.5 * 1024 * 1024).map((_, i) => i * 13);
    dialled.send(encode(big));
    assert.deepEqual(await inbox.take(1), [big]);
    assert.throws(
      () => dialled.send(encode(new Uint8Array(2 * 1024 * 1024))),
      RangeError,
    );
    assert.equal(dialled.isClosed, false);
    dialled.send(encode("still open"));
    assert.deepEqual(await inbox.take(1), ["still open"]);
    await dialled.close();
    await inbox.closeReason;
  });
});

/** A datagram socket of the attacker's, receiving the replies it provokes. */
function attackerSocket() {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  return {
    send: (bytes: Uint8Array, to: { hostname: string; port: number }) =>
      socket.send(bytes, { transport: "udp", ...to }),
    async receive(): Promise<Uint8Array> {
      const [bytes] = await socket.receive();
      return bytes;
    },
    close: () => socket.close(),
  };
}

Deno.test("noise-udp: a flood of bogus datagrams under load costs no DH and no state, and an honest peer still connects", async () => {
  const tuning = { forceCookies: true, loadHalfOpen: 4, maxHalfOpen: 8 };
  await withNetlayers([{ tuning }, {}], async (server, client) => {
    const to = addressOf(server);
    const serverKey = designatorKey(server.location.designator);
    // Initiations with a valid mac1 but no cookie, each from a fresh
    // ephemeral; replayed round-robin they earn only cookie replies.
    const valid = Array.from({ length: 8 }, (_, i) => {
      const dial = new InitiatorHandshake(nativeCrypto, {
        clock: new ManualClock(),
        identity: noiseIdentity(
          nativeCrypto,
          nativeCrypto.ed25519.generateKeyPair(),
        ),
        remoteKey: serverKey,
        localCode: 1000 + i,
      });
      const initiation = dial.initiation();
      dial.destroy();
      return initiation;
    });
    const random = (n: number, type: number) => {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      bytes[0] = type;
      return bytes;
    };
    const types = [0, 2, 3, 4, 5, 6, 7, 255];
    const attacker = attackerSocket();
    const sent = { valid: 0, badMac: 0, random: 0 };
    try {
      // Batches small enough for the kernel's receive buffer; a batch ends
      // with valid initiations, so their cookie replies prove the server
      // has read everything sent before them.
      for (let batch = 0; batch < 120; batch++) {
        for (let i = 0; i < 12; i++) {
          await attacker.send(
            random(1 + ((batch * 12 + i) % 1200), types[i % 8]),
            to,
          );
          sent.random++;
          const forged = random(INITIATION_LENGTH, 1);
          forged[1] = forged[2] = forged[3] = 0;
          forged[8] = 1 + (i % 2);
          await attacker.send(forged, to);
          sent.badMac++;
        }
        for (let i = 0; i < 2; i++) {
          await attacker.send(valid[(batch * 2 + i) % valid.length], to);
          sent.valid++;
        }
        for (let i = 0; i < 2; i++) {
          assert.equal((await attacker.receive())[0], 3, "a cookie reply");
        }
      }
    } finally {
      attacker.close();
    }
    assert.ok(sent.valid + sent.badMac + sent.random >= 3000);
    const flooded = server.endpoint.stats();
    assert.equal(flooded.dhOperations, 0, "no public-key work for the flood");
    assert.equal(flooded.cookieReplies, sent.valid);
    assert.equal(flooded.macRejects, sent.badMac);
    assert.equal(flooded.cheapRejects, sent.random);
    assert.equal(flooded.errors, 0);
    assert.ok(flooded.halfOpen <= tuning.maxHalfOpen);
    assert.equal(flooded.sessions + flooded.halfOpen, 0);
    assert.equal(server.registry.stats().live, 0, "the flood left no state");

    const accepted = accepting(server);
    const honest = await client.connect(server.location);
    const inbox = new Inbox(await accepted);
    honest.send(encode("hello through the flood"));
    assert.deepEqual(await inbox.take(1), ["hello through the flood"]);
    const after = server.endpoint.stats();
    assert.ok(after.cookieReplies > sent.valid, "the honest peer's too");
    assert.equal(after.dhOperations, client.endpoint.stats().dhOperations);
    await honest.close();
    await inbox.closeReason;
  });
});

Deno.test("noise-udp: listen() with bad tuning throws RangeError and leaves no socket bound", async () => {
  const probe = NoiseUdpNetlayer.listen();
  const port = Number(probe.location.hints.port);
  await closeAll(probe);
  assert.throws(
    () =>
      NoiseUdpNetlayer.listen({ port, tuning: { handshakeRetransmit: -1 } }),
    RangeError,
  );
  // The port is free again: the failed listen() bound nothing.
  await withNetlayers([{ port }], (again) => {
    assert.equal(again.location.hints.port, String(port));
    return Promise.resolve();
  });
});

Deno.test("noise-udp: closing a netlayer closes its peers' connections", async () => {
  await withNetlayers([{}, {}], async (server, client) => {
    const accepted = accepting(server);
    const inbox = new Inbox(await client.connect(server.location));
    new Inbox(await accepted);
    await server.close();
    assert.ok(await inbox.closeReason instanceof ConnectionClosedError);
  });
});

Deno.test("noise-udp: a peer restarted at the same port with the same key is reached again", async () => {
  const identity = nativeCrypto.ed25519.generateKeyPair();
  const quick = { handshakeRetransmit: 30, handshakeAttempts: 3 };
  const first = NoiseUdpNetlayer.listen({ identity });
  const port = Number(first.location.hints.port);
  await withNetlayers([{ tuning: quick }], async (client) => {
    const accepted = accepting(first);
    const dialled = await client.connect(first.location);
    new Inbox(await accepted);
    await dialled.close();
    await closeAll(first);
    assert.equal(client.endpoint.stats().sessions, 1, "the secret is cached");
    await withNetlayers([{ identity, port }], async (restarted) => {
      const again = accepting(restarted);
      const redialled = await client.connect(restarted.location);
      const inbox = new Inbox(await again);
      redialled.send(encode("again"));
      assert.deepEqual(await inbox.take(1), ["again"]);
      const stats = client.endpoint.stats();
      assert.equal(
        stats.handshakesCompleted,
        2,
        "the stale secret was dropped",
      );
      assert.equal(stats.sessions, 1);
      await redialled.close();
      await inbox.closeReason;
    });
  });
});
