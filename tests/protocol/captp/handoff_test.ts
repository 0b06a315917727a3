import assert from "node:assert/strict";
import { nativeCrypto as crypto } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { Registry } from "../../../protocol/registry.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import { SyrupRecord } from "../../../protocol/syrup/value.ts";
import { HandoffError } from "../../../protocol/captp/errors.ts";
import { GiftTable } from "../../../protocol/captp/gifts.ts";
import {
  type HandoffSessionView,
  makeGive,
  makeReceive,
  readSignedGive,
  readSignedReceive,
  SignedCertificate,
  signEnvelope,
} from "../../../protocol/captp/handoff.ts";
import * as keys from "../../../protocol/captp/keys.ts";

const CAROL_LOCATION = new SyrupRecord(Symbol.for("ocapn-peer"), [
  Symbol.for("memory"),
  "carol",
  new Map([["port", "1"]]),
]);

/** Alice (gifter), Bob (receiver) and Carol (exporter), as Carol sees them. */
function fixture(options: { withdrawMs?: number; depositMs?: number } = {}) {
  const kp = () => crypto.ed25519.generateKeyPair();
  const aliceInAC = kp(), carolInAC = kp(), bobInAB = kp();
  const bobInBC = kp(), carolInBC = kp();
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
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const sessions = [ac, bc];
  const gifts = new GiftTable({
    registry,
    clock,
    crypto,
    findSession: (id) =>
      sessions.find((s) => keys.compareBytes(s.id!, id) === 0),
    ...options,
  });
  const giftId = new TextEncoder().encode("my-gift");
  const give = (over: { signer?: Uint8Array; gifterSide?: Uint8Array } = {}) =>
    signEnvelope(
      makeGive({
        receiverKey: bobInAB.publicKey,
        exporterLocation: CAROL_LOCATION,
        session: ac.id!,
        gifterSide: over.gifterSide ?? ac.peerSideId!,
        giftId,
      }),
      (b) => crypto.ed25519.sign(over.signer ?? aliceInAC.secretKey, b),
    );
  const receive = (
    over: { count?: bigint; signer?: Uint8Array; signedGive?: SyrupRecord } =
      {},
  ) =>
    new SignedCertificate(signEnvelope(
      makeReceive({
        receivingSession: bc.id!,
        receivingSide: bc.peerSideId!,
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
    bobInBC,
  };
}

const failure = (name: string) => (e: unknown) => {
  assert.ok(e instanceof HandoffError, String(e));
  assert.equal(e.failure, name);
  assert.equal(e.code, "CAPTP_HANDOFF_FAILED");
  assert.match(e.message, new RegExp(name));
  return true;
};

Deno.test("signed give and receive round-trip through Syrup byte for byte", () => {
  const f = fixture();
  const env = f.receive().envelope;
  const again = decode(encode(env));
  assert.deepEqual(encode(again), encode(env));
  const read = readSignedReceive(again);
  assert.equal(read.fields.handoffCount, 0n);
  assert.deepEqual(read.give.fields.giftId, f.giftId);
  assert.deepEqual(encode(read.give.envelope), encode(f.give()));
  assert.throws(() => readSignedGive(env), failure("malformed-certificate"));
  assert.throws(
    () => readSignedGive("not a give"),
    failure("malformed-certificate"),
  );
  f.done();
});

Deno.test("withdrawGift() hands out a deposited gift once", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.done();
});

Deno.test("withdrawGift() before the deposit waits for it", async () => {
  const f = fixture();
  const p = f.gifts.withdrawGift(f.receive(), f.bc);
  assert.equal(f.registry.stats().byKind["captp.gift"], 1);
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await p, f.carolObj);
  f.done();
});

Deno.test("withdrawGift() of a gift never deposited breaks at the deadline", async () => {
  const f = fixture({ withdrawMs: 1000 });
  const p = f.gifts.withdrawGift(f.receive(), f.bc);
  f.clock.advance(999);
  assert.equal(f.gifts.size, 1);
  f.clock.advance(1);
  await assert.rejects(p, failure("gift-never-deposited"));
  f.done();
});

Deno.test("a deposit nobody withdraws expires and leaves nothing behind", () => {
  const f = fixture({ depositMs: 500 });
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(f.registry.stats().byKind["captp.gift.deadline"], 1);
  f.clock.advance(500);
  f.done();
});

Deno.test("withdrawGift() refuses a replayed handoff count", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  await f.gifts.withdrawGift(f.receive(), f.bc);
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  await assert.rejects(
    f.gifts.withdrawGift(f.receive(), f.bc),
    failure("handoff-count-reused"),
  );
  // A fresh count gets the second deposit.
  assert.equal(
    await f.gifts.withdrawGift(f.receive({ count: 1n }), f.bc),
    f.carolObj,
  );
  f.done();
});

Deno.test("withdrawGift() refuses a give whose signature is forged", async () => {
  const f = fixture();
  const forger = crypto.ed25519.generateKeyPair();
  const signedGive = f.give({ signer: forger.secretKey });
  await assert.rejects(
    f.gifts.withdrawGift(f.receive({ signedGive }), f.bc),
    failure("bad-give-signature"),
  );
  f.done();
});

Deno.test("withdrawGift() refuses a receive not signed by the receiver-key", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  // Signed by Bob's key of another session: the receiver key does not match.
  await assert.rejects(
    f.gifts.withdrawGift(f.receive({ signer: f.bobInBC.secretKey }), f.bc),
    failure("bad-receive-signature"),
  );
  // The gift is still there for the rightful receiver.
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.done();
});

Deno.test("withdrawGift() refuses an unknown gifter session", async () => {
  const f = fixture();
  f.sessions.splice(0, 1); // the gifter-exporter session is gone
  await assert.rejects(
    f.gifts.withdrawGift(f.receive(), f.bc),
    failure("unknown-gifter-session"),
  );
  f.done();
});

Deno.test("withdrawGift() refuses a gifter-side that is not the gifter's", async () => {
  const f = fixture();
  const signedGive = f.give({ gifterSide: f.bc.peerSideId });
  await assert.rejects(
    f.gifts.withdrawGift(f.receive({ signedGive }), f.bc),
    failure("gifter-side-mismatch"),
  );
  f.done();
});

Deno.test("withdrawGift() refuses a receive naming another session", async () => {
  const f = fixture();
  await assert.rejects(
    f.gifts.withdrawGift(f.receive(), f.ac),
    failure("receiving-session-mismatch"),
  );
  f.done();
});

Deno.test("a closing session cancels the withdraws that wait on it", async () => {
  const f = fixture();
  const p = f.gifts.withdrawGift(f.receive(), f.bc);
  f.gifts.sessionClosed(f.bc);
  await assert.rejects(p, failure("session-closed"));
  f.done();
});

Deno.test("a second withdraw of a gift being awaited is refused", async () => {
  const f = fixture();
  const first = f.gifts.withdrawGift(f.receive(), f.bc);
  await assert.rejects(
    f.gifts.withdrawGift(f.receive({ count: 1n }), f.bc),
    failure("gift-already-withdrawn"),
  );
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await first, f.carolObj);
  f.done();
});
