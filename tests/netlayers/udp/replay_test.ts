import assert from "node:assert/strict";
import { ReplayWindow } from "../../../netlayers/udp/replay.ts";
import { seededRandom } from "./_link_shim.ts";

Deno.test("ReplayWindow accepts each packet number once", () => {
  const w = new ReplayWindow(4);
  assert.equal(w.windowSize, 96);
  assert.ok(w.accept(0));
  assert.ok(!w.accept(0));
  assert.ok(w.accept(5));
  assert.ok(w.accept(3));
  assert.ok(!w.check(3));
  assert.ok(!w.accept(5));
});

Deno.test("ReplayWindow refuses packet numbers older than the window", () => {
  const w = new ReplayWindow(4);
  w.accept(1000);
  assert.ok(!w.check(1000 - 96), "just outside");
  assert.ok(w.check(1000 - 95), "just inside");
  assert.ok(w.accept(10_000), "a jump clears the ring");
  assert.ok(w.check(9999));
  assert.ok(!w.check(1000));
});

Deno.test("ReplayWindow matches a set-based model under random reordering", () => {
  const random = seededRandom(3);
  const w = new ReplayWindow(8);
  const seen = new Set<number>();
  let top = -1;
  for (let i = 0; i < 20_000; i++) {
    const pn = Math.max(0, top + Math.floor(random() * 40) - 30);
    const fresh = !seen.has(pn) && pn + w.windowSize > top;
    assert.equal(w.accept(pn), fresh, `pn ${pn} top ${top}`);
    if (fresh) {
      seen.add(pn);
      top = Math.max(top, pn);
    }
  }
});

Deno.test("ReplayWindow.ranges() lists accepted numbers newest first", () => {
  const w = new ReplayWindow(8);
  for (const pn of [0, 1, 2, 5, 6, 9]) w.accept(pn);
  assert.deepEqual(w.ranges(100, 10), [
    { high: 9, low: 9 },
    { high: 6, low: 5 },
    { high: 2, low: 0 },
  ]);
  assert.deepEqual(w.ranges(100, 2), [{ high: 9, low: 9 }, {
    high: 6,
    low: 5,
  }]);
  assert.deepEqual(w.ranges(5, 10), [{ high: 9, low: 9 }, { high: 6, low: 5 }]);
  assert.deepEqual(new ReplayWindow().ranges(10, 10), []);
});
