/**
 * The noise-tcp netlayer (netlayers/noise_tcp.ts) doing its job: the shared
 * conformance suite, the location it advertises, both handshakes (IK when
 * the dialer knows the key, XX when it does not), keys zeroed at the end,
 * and messages that span records. What an attacker can try is in
 * noise_tcp_attacks_test.ts.
 */
import assert from "node:assert/strict";
import {
  NoiseConnection,
  NoiseTcpNetlayer,
} from "../../netlayers/noise_tcp.ts";
import { FRAME_RECORD, sealRecords } from "../../netlayers/_noise_tcp_wire.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { runConformance } from "./_conformance.ts";
import { Inbox } from "./_inbox.ts";
import { accepting, portOf } from "./_netlayer_fixtures.ts";
import { factory, rawDial, withServer } from "./_noise_tcp_fixtures.ts";

runConformance("noise-tcp", factory);

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
