import assert from "node:assert/strict";
import { nativeCrypto as crypto } from "../../../crypto/native.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import { SyrupRecord } from "../../../protocol/syrup/value.ts";
import * as keys from "../../../protocol/captp/keys.ts";
import {
  readSignedGive,
  readSignedReceive,
} from "../../../protocol/captp/handoff.ts";
import { failure, fixture } from "./_handoff_fixture.ts";

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
  // A second gift from Alice, withdrawn under the count Bob already used.
  const secondId = new TextEncoder().encode("second-gift");
  const second = f.give({ giftId: secondId });
  f.gifts.depositGift(secondId, f.carolObj, f.ac);
  await assert.rejects(
    f.gifts.withdrawGift(f.receive({ signedGive: second }), f.bc),
    failure("handoff-count-reused"),
  );
  // A fresh count gets it.
  assert.equal(
    await f.gifts.withdrawGift(
      f.receive({ signedGive: second, count: 1n }),
      f.bc,
    ),
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

Deno.test("withdrawGift() refuses a stolen give: the receive must be signed by the give's receiver-key", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  // Mallory copied Bob's give off the wire and withdraws in her own session
  // with Carol, signing with her key: everything checks out but the
  // receiver-key, which names Bob.
  await assert.rejects(
    f.gifts.withdrawGift(
      f.receive({ on: f.mc, signer: f.malloryInMC.secretKey }),
      f.mc,
    ),
    failure("bad-receive-signature"),
  );
  // Nor can she swap in her own key: the gifter's signature then breaks.
  const bobs = f.give();
  const cert = bobs.fields[0] as SyrupRecord;
  const forged = new SyrupRecord(bobs.label, [
    new SyrupRecord(cert.label, [
      keys.publicKeyToSyrup(f.malloryInMC.publicKey),
      ...cert.fields.slice(1),
    ]),
    bobs.fields[1],
  ]);
  await assert.rejects(
    f.gifts.withdrawGift(
      f.receive({
        on: f.mc,
        signer: f.malloryInMC.secretKey,
        signedGive: forged,
      }),
      f.mc,
    ),
    failure("bad-give-signature"),
  );
  assert.equal(f.gifts.size, 1, "the deposit waits for Bob");
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
