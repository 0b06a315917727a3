/**
 * Registry allocate/release against a plain Map in the same run: the price
 * of stale-hashcode detection, dispose bookkeeping and per-kind stats.
 * Each iteration holds a window of 64 live entries and cycles N through it.
 */
import { Registry } from "../protocol/registry.ts";

const N = 10_000;
const WINDOW = 64;

Deno.bench({
  name: "Map set/delete",
  group: "registry",
  baseline: true,
  fn() {
    const map = new Map<number, number>();
    const live: number[] = [];
    let next = 1;
    for (let i = 0; i < N; i++) {
      const key = next++;
      map.set(key, i);
      live.push(key);
      if (live.length > WINDOW) map.delete(live.shift()!);
    }
  },
});

Deno.bench({
  name: "Registry mint/release (hashcodes)",
  group: "registry",
  fn() {
    const registry = new Registry();
    const live: number[] = [];
    for (let i = 0; i < N; i++) {
      live.push(registry.mint("bench", i));
      if (live.length > WINDOW) registry.release(live.shift()!);
    }
  },
});

Deno.bench({
  name: "Registry handles allocate/release",
  group: "registry",
  fn() {
    const table = new Registry().handles<number>("bench");
    const live: number[] = [];
    for (let i = 0; i < N; i++) {
      live.push(table.allocate(i));
      if (live.length > WINDOW) table.release(live.shift()!);
    }
  },
});
