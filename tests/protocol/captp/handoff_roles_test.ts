import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { Registry } from "../../../protocol/registry.ts";
import { peerToSyrup } from "../../../protocol/locator.ts";
import type { OCapNPeer } from "../../../protocol/locator.ts";
import { HandoffRoles } from "../../../protocol/captp/handoff_roles.ts";
import {
  makeGive,
  SignedCertificate,
  signEnvelope,
} from "../../../protocol/captp/handoff.ts";
import { failure } from "./_handoff_fixture.ts";
import {
  far,
  finish,
  Harness,
  makeVat,
  send,
  testHost,
  type Vat,
} from "./_harness.ts";

const CAROL: OCapNPeer = {
  transport: "memory",
  designator: "carol",
  hints: {},
};

/**
 * Alice (gifter) and Bob (receiver) in one session. Bob runs the real
 * receiver half; his dials are recorded and fail, so a give he accepts
 * ends with exporter-unreachable and one he refuses never dials at all.
 * Alice passes hand-made signed gives through as they are.
 */
async function pair() {
  const h = new Harness();
  const alice = makeVat("alice");
  // Bob's registry holds the handoff deadline, so it needs the clock.
  const bob = { ...makeVat("bob"), registry: new Registry({ clock: h.clock }) };
  const dialled: OCapNPeer[] = [];
  bob.directory.connect = (peer: OCapNPeer) => {
    dialled.push(peer);
    return Promise.reject(new Error("no route to carol"));
  };
  bob.directory.handoffs = new HandoffRoles({
    directory: bob.directory,
    host: testHost,
    registry: bob.registry,
    crypto: nativeCrypto,
    randomBytes: (n) => nativeCrypto.randomBytes(n),
  });
  alice.directory.handoffs = {
    encodeForeign: (_s, value) =>
      value instanceof SignedCertificate ? value.envelope : undefined,
    decodeForeign: () => undefined,
  };
  const [a] = h.connect(alice, bob);
  await h.settle();
  const received: unknown[] = [];
  const swiss = bob.directory.swiss.publish(far({
    take: (gift: unknown) => {
      received.push(gift);
      return "taken";
    },
  }));
  const bobsObj = a.fetch(swiss);
  await h.settle();
  /** A give from Alice's session naming `receiverKey`. */
  const give = (receiverKey: Uint8Array) =>
    new SignedCertificate(signEnvelope(
      makeGive({
        receiverKey,
        exporterLocation: peerToSyrup(CAROL),
        session: nativeCrypto.randomBytes(32),
        gifterSide: nativeCrypto.randomBytes(32),
        giftId: nativeCrypto.randomBytes(32),
      }),
      (bytes) => a.sign(bytes),
    ));
  return { h, alice, bob, a, dialled, received, give, bobsObj: await bobsObj };
}

async function done(h: Harness, vats: Vat[]) {
  await h.settle();
  await finish(h, vats);
}

Deno.test("the receiver refuses a give whose receiver-key is not its key in the gifter's session", async () => {
  const { h, alice, bob, a, dialled, received, give, bobsObj } = await pair();
  // Signed by Alice, but naming Alice's own key instead of Bob's.
  const wrongKey = nativeCrypto.ed25519.generateKeyPair().publicKey;
  const answer = send(bobsObj, "take", give(wrongKey));
  await h.settle();
  // The message carrying the give is delivered; only the gift breaks.
  assert.equal(await answer, "taken");
  assert.equal(received.length, 1);
  await assert.rejects(
    received[0] as Promise<unknown>,
    failure("receiver-key-mismatch"),
  );
  // Nothing travelled towards the exporter, nothing was kept.
  assert.deepEqual(dialled, []);
  assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
  assert.equal(a.state, "open", "a bad give is no reason to abort");
  await done(h, [alice, bob]);
});

Deno.test("the receiver accepts a give naming its own key and goes to the exporter", async () => {
  const { h, alice, bob, a, dialled, received, give, bobsObj } = await pair();
  // Alice's session sees Bob's key of the Alice-Bob session.
  const answer = send(bobsObj, "take", give(a.peerPublicKey!));
  await h.settle();
  assert.equal(await answer, "taken");
  await assert.rejects(
    received[0] as Promise<unknown>,
    failure("exporter-unreachable"),
  );
  assert.deepEqual(dialled, [CAROL]);
  assert.equal(bob.registry.stats().byKind["captp.handoff"], undefined);
  await done(h, [alice, bob]);
});
