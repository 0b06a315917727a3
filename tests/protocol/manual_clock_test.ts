import assert from "node:assert/strict";
import { ManualClock } from "../../protocol/manual_clock.ts";

Deno.test("ManualClock fires due callbacks in deadline order with now() at each deadline", () => {
  const clock = new ManualClock(100);
  const log: string[] = [];
  clock.schedule(130, () => log.push(`c@${clock.now()}`));
  clock.schedule(110, () => log.push(`a@${clock.now()}`));
  clock.schedule(120, () => log.push(`b@${clock.now()}`));
  clock.schedule(120, () => log.push(`b2@${clock.now()}`));
  assert.equal(clock.advance(25), 3);
  assert.deepEqual(log, ["a@110", "b@120", "b2@120"]);
  assert.equal(clock.now(), 125);
  assert.equal(clock.pending, 1);
  clock.advance(5);
  assert.deepEqual(log.at(-1), "c@130");
  assert.equal(clock.pending, 0);
});

Deno.test("ManualClock never fires synchronously and cancel is idempotent", () => {
  const clock = new ManualClock();
  let fired = 0;
  const cancel = clock.schedule(-5, () => fired++);
  const cancelOther = clock.schedule(0, () => fired += 10);
  assert.equal(fired, 0);
  cancel();
  cancel();
  assert.equal(clock.pending, 1);
  clock.advance(0);
  assert.equal(fired, 10);
  cancelOther();
  assert.equal(clock.pending, 0);
});

Deno.test("ManualClock fires callbacks scheduled while advancing when they fall due", () => {
  const clock = new ManualClock();
  const log: number[] = [];
  clock.schedule(10, () => {
    log.push(clock.now());
    clock.schedule(15, () => log.push(clock.now()));
    clock.schedule(50, () => log.push(clock.now()));
  });
  clock.advance(20);
  assert.deepEqual(log, [10, 15]);
  assert.equal(clock.runAll(), 1);
  assert.deepEqual(log, [10, 15, 50]);
  assert.equal(clock.now(), 50);
});

Deno.test("ManualClock refuses to move backwards and stops a runaway runAll()", () => {
  const clock = new ManualClock(10);
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advanceTo(5), RangeError);
  assert.throws(() => clock.schedule(NaN, () => {}), RangeError);
  const again = () => {
    clock.schedule(clock.now() + 1, again);
  };
  again();
  assert.throws(() => clock.runAll(100), RangeError);
  assert.equal(clock.pending, 1);
});
