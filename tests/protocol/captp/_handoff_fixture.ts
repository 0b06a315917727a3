/**
 * Alice (gifter), Bob (receiver) and Carol (exporter) as Carol's gift table
 * sees them: session views, signed gives and receives, and `done()`, which
 * asserts that no gift and no registry entry is left.
 */

import assert from "node:assert/strict";
import { nativeCrypto as crypto } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { Registry } from "../../../protocol/registry.ts";
import { SyrupRecord } from "../../../protocol/syrup/value.ts";
import { HandoffError } from "../../../protocol/captp/errors.ts";
import { GiftTable } from "../../../protocol/captp/gifts.ts";
import {
  type HandoffSessionView,
  makeGive,
  makeReceive,
  SignedCertificate,
  signEnvelope,
} from "../../../protocol/captp/handoff.ts";
import * as keys from "../../../protocol/captp/keys.ts";

export const CAROL_LOCATION = new SyrupRecord(Symbol.for("ocapn-peer"), [
  Symbol.for("memory"),
  "carol",
  new Map([["port", "1"]]),
]);

/** Alice (gifter), Bob (receiver) and Carol (exporter), as Carol sees them. */
export function fixture(
  options: { withdrawMs?: number; depositMs?: number } = {},
) {
  const kp = () => crypto.ed25519.generateKeyPair();
  const aliceInAC = kp(), carolInAC = kp(), bobInAB = kp();
  const bobInBC = kp(), carolInBC = kp();
  // Mallory has her own session with Carol and no business with the gift.
  const malloryInMC = kp(), carolInMC = kp();
  const side = (k: { publicKey: Uint8Array }) =>
    keys.publicId(crypto, k.publicKey);
  const view = (
    local: { publicKey: Uint8Array },
    peer: { publicKey: Uint8Array },
  ): HandoffSessionView => ({
    id: keys.sessionId(crypto, [side(local), side(peer)]),
    localSideId: side(local),
    peerSideId: side(peer),
    peerPublicKey: peer.publicKey,
  });
  const ac = view(carolInAC, aliceInAC);
  const bc = view(carolInBC, bobInBC);
  const mc = view(carolInMC, malloryInMC);
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const sessions = [ac, bc, mc];
  const gifts = new GiftTable({
    registry,
    crypto,
    findSession: (id) =>
      sessions.find((s) => keys.compareBytes(s.id!, id) === 0),
    ...options,
  });
  const giftId = new TextEncoder().encode("my-gift");
  const give = (
    over: {
      signer?: Uint8Array;
      gifterSide?: Uint8Array;
      giftId?: Uint8Array;
      receiverKey?: Uint8Array;
    } = {},
  ) =>
    signEnvelope(
      makeGive({
        receiverKey: over.receiverKey ?? bobInAB.publicKey,
        exporterLocation: CAROL_LOCATION,
        session: ac.id!,
        gifterSide: over.gifterSide ?? ac.peerSideId!,
        giftId: over.giftId ?? giftId,
      }),
      (b) => crypto.ed25519.sign(over.signer ?? aliceInAC.secretKey, b),
    );
  const receive = (
    over: {
      count?: bigint;
      signer?: Uint8Array;
      signedGive?: SyrupRecord;
      /** The receiver-exporter session the receive names (default Bob's). */
      on?: HandoffSessionView;
    } = {},
  ) =>
    new SignedCertificate(signEnvelope(
      makeReceive({
        receivingSession: (over.on ?? bc).id!,
        receivingSide: (over.on ?? bc).peerSideId!,
        handoffCount: over.count ?? 0n,
        signedGive: over.signedGive ?? give(),
      }),
      (b) => crypto.ed25519.sign(over.signer ?? bobInAB.secretKey, b),
    ));
  const carolObj = { carol: true };
  const done = () => {
    assert.equal(gifts.size, 0);
    assert.deepEqual(registry.stats().byKind, {});
    registry.close();
  };
  return {
    gifts,
    ac,
    bc,
    clock,
    registry,
    give,
    receive,
    giftId,
    carolObj,
    done,
    sessions,
    aliceInAC,
    bobInAB,
    bobInBC,
    mc,
    malloryInMC,
  };
}

export const failure = (name: string) => (e: unknown) => {
  assert.ok(e instanceof HandoffError, String(e));
  assert.equal(e.failure, name);
  assert.equal(e.code, "CAPTP_HANDOFF_FAILED");
  assert.match(e.message, new RegExp(name));
  return true;
};
