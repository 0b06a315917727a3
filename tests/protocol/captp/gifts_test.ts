import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import {
  deliverToBootstrap,
  SwissTable,
} from "../../../protocol/captp/bootstrap.ts";
import { failure, fixture } from "./_handoff_fixture.ts";

const DEPOSIT_GIFT = Symbol.for("deposit-gift");
const mallorysObj = { mallory: true };

Deno.test("depositGift() refuses a second deposit while the first waits, and the first stands", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.throws(
    () => f.gifts.depositGift(f.giftId, mallorysObj, f.ac),
    failure("gift-already-deposited"),
  );
  assert.equal(f.gifts.size, 1);
  assert.equal(f.registry.stats().byKind["captp.gift"], 1);
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.done();
});

Deno.test("depositGift() after deposit-then-withdraw is refused and keeps nothing", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  assert.throws(
    () => f.gifts.depositGift(f.giftId, mallorysObj, f.ac),
    failure("gift-already-deposited"),
  );
  f.done();
});

Deno.test("depositGift() after withdraw-then-deposit is refused and keeps nothing", async () => {
  const f = fixture();
  const waiting = f.gifts.withdrawGift(f.receive(), f.bc);
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.throws(
    () => f.gifts.depositGift(f.giftId, mallorysObj, f.ac),
    failure("gift-already-deposited"),
  );
  assert.equal(await waiting, f.carolObj);
  // No second deposit waits on a deadline for a withdraw that must not come.
  f.done();
});

Deno.test("withdrawGift() of a gift already handed out is refused at once", async () => {
  const f = fixture();
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  const again = f.gifts.withdrawGift(f.receive({ count: 1n }), f.bc);
  assert.equal(f.gifts.size, 0, "nothing waits for a deposit");
  await assert.rejects(again, failure("gift-already-withdrawn"));
  f.done();
});

Deno.test("deposit-gift through the bootstrap object breaks a duplicate's answer", async () => {
  const f = fixture();
  const swiss = new SwissTable({
    randomBytes: (n) => nativeCrypto.randomBytes(n),
  });
  const deposit = (ref: object) =>
    deliverToBootstrap([DEPOSIT_GIFT, f.giftId, ref], {
      swiss,
      gifts: f.gifts,
      session: f.ac,
    });
  assert.equal(await deposit(f.carolObj), undefined);
  await assert.rejects(
    deposit(mallorysObj),
    failure("gift-already-deposited"),
  );
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.done();
});

Deno.test("the same gift id from another gifter session is another gift", async () => {
  const f = fixture({ depositMs: 100 });
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  f.gifts.depositGift(f.giftId, mallorysObj, f.mc);
  assert.equal(f.gifts.size, 2);
  // Bob's give names the Alice-Carol session: he gets Alice's gift.
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.clock.advance(100); // Mallory's deposit expires unclaimed
  f.done();
});

Deno.test("an expired deposit frees its gift id; only a handed-out gift retires it", async () => {
  const f = fixture({ depositMs: 100 });
  f.gifts.depositGift(f.giftId, mallorysObj, f.ac);
  f.clock.advance(100);
  assert.equal(f.gifts.size, 0);
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  assert.equal(await f.gifts.withdrawGift(f.receive(), f.bc), f.carolObj);
  f.done();
});

Deno.test("closing the gifter session forgets the gift ids it retired", async () => {
  const f = fixture({ depositMs: 100 });
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  await f.gifts.withdrawGift(f.receive(), f.bc);
  f.gifts.sessionClosed(f.ac);
  // Only observable by reusing the view: a closed session's ids are gone.
  f.gifts.depositGift(f.giftId, f.carolObj, f.ac);
  f.gifts.sessionClosed(f.ac);
  f.done();
});
