import assert from "node:assert/strict";
import { nativeCrypto } from "../../crypto/mod.ts";
import {
  answerHandshake,
  CookieGate,
  dialHandshake,
  type HandshakeContext,
} from "../../netlayers/_noise_tcp_handshake.ts";
import { pipe } from "../../netlayers/_byte_pipe.ts";
import { NoiseError } from "../../netlayers/noise/errors.ts";
import { noiseIdentity } from "../../netlayers/noise/peer_handshake.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { Registry } from "../../protocol/registry.ts";

function context(clock: ManualClock): HandshakeContext {
  const c = nativeCrypto;
  return {
    crypto: c,
    clock,
    registry: new Registry({ clock }),
    identity: noiseIdentity(c, c.ed25519.generateKeyPair()),
    prologue: new Uint8Array(0),
    timeoutMs: 1000,
    transport: {},
    handshaking: new Set(),
  };
}

for (const ik of [true, false]) {
  const name = ik ? "IK" : "XX";
  Deno.test(`dialHandshake()/answerHandshake() (${name}) establish over a pipe and leave nothing behind`, async () => {
    const clock = new ManualClock(0);
    const dialer = context(clock);
    const responder = context(clock);
    const [a, b] = pipe();
    const [d, r] = await Promise.all([
      dialHandshake(dialer, {
        connect: () => Promise.resolve(a),
        remoteIdentity: ik ? responder.identity.ed25519.publicKey : undefined,
      }),
      answerHandshake(responder, b, {
        gate: new CookieGate(responder, { loadThreshold: Infinity }),
        address: "mem",
      }),
    ]);
    assert.deepEqual(
      d.established.remoteIdentity,
      responder.identity.ed25519.publicKey,
    );
    assert.deepEqual(
      r!.established.remoteIdentity,
      dialer.identity.ed25519.publicKey,
    );
    const sealed = d.established.transport.seal(Uint8Array.of(9));
    assert.deepEqual(r!.established.transport.open(sealed), Uint8Array.of(9));
    for (const ctx of [dialer, responder]) {
      assert.equal(ctx.registry.stats().live, 0);
      assert.equal(ctx.handshaking.size, 0);
    }
    assert.equal(clock.pending, 0);
    d.established.transport.close();
    r!.established.transport.close();
    a.close();
  });
}

Deno.test("dialHandshake() times out after timeoutMs, its machine and entry sharing one timer", async () => {
  const clock = new ManualClock(0);
  const dialer = context(clock);
  const silent = context(clock);
  const [a, b] = pipe();
  const dialed = dialHandshake(dialer, {
    connect: () => Promise.resolve(a),
    remoteIdentity: silent.identity.ed25519.publicKey,
  });
  const initiation = await b.read(new Uint8Array(4096));
  assert.ok(initiation !== null && initiation > 0);
  assert.equal(dialer.registry.stats().live, 1);
  assert.equal(clock.pending, 1, "the attempt and its machine share a timer");
  clock.advance(999);
  assert.equal(dialer.registry.stats().live, 1);
  clock.advance(1);
  await assert.rejects(dialed, (error: unknown) => {
    assert.ok(error instanceof NoiseError);
    assert.equal(error.code, "timeout");
    return true;
  });
  assert.equal(dialer.registry.stats().live, 0);
  assert.equal(dialer.handshaking.size, 0);
  assert.equal(clock.pending, 0);
  b.close();
});
