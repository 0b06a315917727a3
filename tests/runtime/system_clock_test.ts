import assert from "node:assert/strict";
import { SystemClock } from "../../runtime/mod.ts";

Deno.test("SystemClock fires a scheduled callback once its time has come", async () => {
  const clock = new SystemClock();
  const at = clock.now() + 5;
  const fired = Promise.withResolvers<number>();
  clock.schedule(at, () => fired.resolve(clock.now()));
  assert.equal(clock.pending, 1);
  assert.ok((await fired.promise) >= at);
  assert.equal(clock.pending, 0);
  clock.close();
});

Deno.test("SystemClock cancel and close() leave no timer behind", () => {
  const clock = new SystemClock();
  let fired = 0;
  const cancel = clock.schedule(clock.now() + 60_000, () => fired++);
  clock.schedule(clock.now() + 60_000, () => fired++);
  assert.equal(clock.pending, 2);
  cancel();
  cancel();
  assert.equal(clock.pending, 1);
  clock.close();
  clock.close();
  assert.equal(clock.pending, 0);
  clock.schedule(clock.now(), () => fired++);
  assert.equal(clock.pending, 0);
  assert.equal(fired, 0);
});

Deno.test("SystemClock fires due callbacks in time order and skips cancelled ones", async () => {
  const clock = new SystemClock();
  const order: string[] = [];
  const done = Promise.withResolvers<void>();
  const now = clock.now();
  clock.schedule(now + 20, () => {
    order.push("late");
    done.resolve();
  });
  clock.schedule(now + 2, () => order.push("early"));
  const cancel = clock.schedule(now + 1, () => order.push("cancelled"));
  clock.schedule(now + 10, () => order.push("middle"));
  cancel();
  assert.equal(clock.pending, 3);
  await done.promise;
  assert.deepEqual(order, ["early", "middle", "late"]);
  assert.equal(clock.pending, 0);
  clock.close();
});

Deno.test("SystemClock runs a callback scheduled from inside another", async () => {
  const clock = new SystemClock();
  const done = Promise.withResolvers<number>();
  clock.schedule(clock.now(), () => {
    const at = clock.now() + 3;
    clock.schedule(at, () => done.resolve(at));
  });
  const at = await done.promise;
  assert.ok(clock.now() >= at);
  assert.equal(clock.pending, 0);
  clock.close();
});
