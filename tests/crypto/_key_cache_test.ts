import assert from "node:assert/strict";
import { KeyCache } from "../../crypto/_key_cache.ts";

function counting() {
  const built: number[] = [];
  const cache = new KeyCache((raw) => {
    built.push(raw[0]);
    return { first: raw[0] };
  });
  return { cache, built };
}

Deno.test("KeyCache builds once per array and reuses the object", () => {
  const { cache, built } = counting();
  const raw = Uint8Array.of(7, 8, 9);
  const first = cache.get(raw);
  assert.equal(cache.get(raw), first);
  assert.deepEqual(built, [7]);
});

Deno.test("KeyCache rebuilds after the array's bytes change, zeroing included", () => {
  const { cache, built } = counting();
  const raw = Uint8Array.of(7, 8, 9);
  cache.get(raw);
  raw[0] = 5;
  assert.deepEqual(cache.get(raw), { first: 5 });
  raw.fill(0);
  assert.deepEqual(cache.get(raw), { first: 0 });
  assert.deepEqual(built, [7, 5, 0]);
});

Deno.test("KeyCache keys by array identity, not by contents", () => {
  const { cache, built } = counting();
  cache.get(Uint8Array.of(1));
  cache.get(Uint8Array.of(1));
  assert.deepEqual(built, [1, 1]);
});

Deno.test("KeyCache.set() records an object that get() then returns", () => {
  const { cache, built } = counting();
  const raw = Uint8Array.of(3);
  cache.set(raw, { first: 42 });
  assert.deepEqual(cache.get(raw), { first: 42 });
  raw[0] = 4;
  assert.deepEqual(cache.get(raw), { first: 4 });
  assert.deepEqual(built, [4]);
});

Deno.test("KeyCache builds nothing when the builder throws", () => {
  let calls = 0;
  const cache = new KeyCache<number>(() => {
    calls++;
    throw new RangeError("not a key");
  });
  const raw = Uint8Array.of(1);
  assert.throws(() => cache.get(raw), RangeError);
  assert.throws(() => cache.get(raw), RangeError);
  assert.equal(calls, 2);
});
