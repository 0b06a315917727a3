import assert from "node:assert/strict";
import {
  Registry,
  RegistryClosedError,
  StaleHashcodeError,
} from "../../protocol/registry.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";

function assertStale(fn: () => unknown) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StaleHashcodeError);
    assert.equal(e.code, "STALE_HASHCODE");
    return true;
  });
}

Deno.test("handles: the lowest freed handle is reused first", () => {
  const registry = new Registry();
  const table = registry.handles<string>("question");
  const hs = ["a", "b", "c", "d", "e"].map((v) => table.allocate(v));
  assert.deepEqual(hs, [0, 1, 2, 3, 4]);
  table.release(3);
  table.release(1);
  table.release(4);
  assert.equal(table.allocate("x"), 1);
  assert.equal(table.allocate("y"), 3);
  assert.equal(table.allocate("z"), 4);
  assert.equal(table.allocate("w"), 5);
  assert.equal(table.get(3), "y");
  for (const [h] of [...table.entries()]) table.release(h);
  assert.equal(registry.stats().live, 0);
});

Deno.test("handles: the table never shrinks and get() of a free handle throws", () => {
  const registry = new Registry();
  const table = registry.handles<number>("buffer");
  for (let i = 0; i < 10; i++) table.allocate(i);
  for (let i = 0; i < 10; i++) table.release(i);
  assert.equal(table.size, 0);
  assert.equal(table.capacity, 10);
  assert.throws(() => table.get(4), RangeError);
  assert.equal(table.lookup(4), undefined);
  assert.equal(table.lookup("4"), undefined);
  assert.equal(table.release(4), false);
  assert.equal(registry.handles("buffer"), table);
});

Deno.test("mint() codes are sparse 32-bit and get() returns the value", () => {
  const registry = new Registry();
  const a = registry.mint("gift", "A");
  const b = registry.mint("gift", "B");
  assert.ok(Number.isInteger(a) && a > 0 && a <= 0xffffffff);
  assert.ok(Math.abs(a - b) > 1000);
  assert.equal(registry.get(a), "A");
  assert.equal(registry.get<string>(b, "gift"), "B");
  registry.release(a);
  registry.release(b);
});

Deno.test("get() of a released hashcode throws StaleHashcodeError", () => {
  const registry = new Registry();
  const code = registry.mint("question", 1);
  assert.equal(registry.release(code), true);
  assertStale(() => registry.get(code));
  assert.equal(registry.lookup(code), undefined);
  assert.equal(registry.release(code), false);
  assertStale(() => registry.extend(code, 5));
});

Deno.test("get() with the wrong kind throws and lookup() returns undefined", () => {
  const registry = new Registry();
  const code = registry.mint("gift", 1);
  assertStale(() => registry.get(code, "question"));
  assert.equal(registry.lookup(code, "question"), undefined);
  registry.release(code);
});

Deno.test("lookup() never throws on untrusted input", () => {
  const registry = new Registry();
  for (const bad of [NaN, -1, 0, 2 ** 40, 1.5, "7", undefined, null, {}]) {
    assert.equal(registry.lookup(bad), undefined);
  }
  assert.throws(() => registry.get("7" as unknown as number), TypeError);
});

Deno.test("a released hashcode comes back only when the cycle wraps", () => {
  const registry = new Registry({ maxHashcode: 8 });
  const first = registry.mint("k", 0);
  registry.release(first);
  const seen = new Set<number>();
  for (let i = 0; i < 7; i++) {
    const code = registry.mint("k", i);
    assert.notEqual(code, first);
    seen.add(code);
    registry.release(code);
  }
  assert.equal(seen.size, 7);
  assert.equal(registry.mint("k", 8), first);
});

Deno.test("hashcode wrap-around skips live codes and a full space throws", () => {
  const registry = new Registry({ maxHashcode: 4 });
  const held = registry.mint("k", "held");
  for (let i = 0; i < 20; i++) {
    const code = registry.mint("k", i);
    assert.notEqual(code, held);
    assert.ok(code >= 1 && code <= 4);
    registry.release(code);
  }
  const rest = [1, 2, 3].map((i) => registry.mint("k", i));
  assert.deepEqual(new Set([held, ...rest]), new Set([1, 2, 3, 4]));
  assert.throws(() => registry.mint("k", 4), RangeError);
  assert.equal(registry.get(held), "held");
  registry.close();
  assert.equal(registry.stats().live, 0);
});

Deno.test("dispose runs exactly once across release, close and expiry", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const log: string[] = [];
  const dispose = (v: string, why: string) => log.push(`${v}:${why}`);
  const a = registry.mint("k", "a", { dispose });
  registry.mint("k", "b", { dispose, deadline: 10 });
  const h = registry.handles<string>("h").allocate("c", { dispose });
  registry.release(a);
  registry.release(a);
  clock.advance(10);
  clock.advance(10);
  registry.handles<string>("h").release(h);
  registry.close();
  registry.close();
  assert.deepEqual(log, ["a:released", "b:expired", "c:released"]);
});

Deno.test("lease() releases its entry at the end of a using scope", () => {
  const registry = new Registry();
  const log: string[] = [];
  {
    using lease = registry.lease("handshake", "hs", {
      dispose: (v, why) => log.push(`${v}:${why}`),
    });
    assert.equal(registry.get(lease.code), "hs");
    assert.equal(registry.stats().live, 1);
  }
  assert.deepEqual(log, ["hs:released"]);
  assert.equal(registry.stats().live, 0);
});

Deno.test("deadlines expire in order and keep one clock callback", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const log: string[] = [];
  const dispose = (v: string, why: string) =>
    log.push(`${v}:${why}@${clock.now()}`);
  registry.mint("k", "late", { deadline: 30, dispose });
  registry.mint("k", "early", { deadline: 10, dispose });
  registry.handles<string>("h").allocate("mid", { deadline: 20, dispose });
  assert.equal(clock.pending, 1);
  assert.equal(registry.stats().deadlines, 3);
  clock.advance(25);
  assert.deepEqual(log, ["early:expired@10", "mid:expired@20"]);
  clock.runAll();
  assert.deepEqual(log.at(-1), "late:expired@30");
  assert.equal(clock.pending, 0);
  assert.equal(registry.stats().live, 0);
});

Deno.test("extend() moves a deadline and undefined removes it", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const expired: string[] = [];
  const dispose = (v: string, why: string) =>
    why === "expired" && expired.push(v);
  const a = registry.mint("k", "a", { deadline: 10, dispose });
  const h = registry.handles<string>("h").allocate("b", {
    deadline: 10,
    dispose,
  });
  clock.advance(5);
  registry.extend(a, 20);
  registry.handles("h").extend(h, undefined);
  clock.advance(10);
  assert.deepEqual(expired, []);
  clock.advance(5);
  assert.deepEqual(expired, ["a"]);
  assert.equal(clock.pending, 0);
  registry.close();
});

Deno.test("releasing the last deadline cancels the clock callback", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const a = registry.mint("k", 1, { deadline: 100 });
  assert.equal(clock.pending, 1);
  registry.release(a);
  assert.equal(clock.pending, 0);
});

Deno.test("close() disposes with 'closed', cancels timers and refuses new entries", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const whys: string[] = [];
  registry.mint("k", 1, { deadline: 5, dispose: (_, why) => whys.push(why) });
  registry.handles("h").allocate(2, { dispose: (_, why) => whys.push(why) });
  registry.close();
  assert.deepEqual(whys, ["closed", "closed"]);
  assert.equal(clock.pending, 0);
  assert.throws(() => registry.mint("k", 3), RegistryClosedError);
  assert.throws(() => registry.handles("h").allocate(3), RegistryClosedError);
  assert.equal(registry.stats().live, 0);
});

Deno.test("a deadline without a clock is refused and leaves no entry", () => {
  const registry = new Registry();
  assert.throws(() => registry.mint("k", 1, { deadline: 5 }), TypeError);
  assert.throws(
    () => registry.handles("h").allocate(1, { deadline: 5 }),
    TypeError,
  );
  assert.deepEqual(registry.stats(), {
    live: 0,
    byKind: {},
    deadlines: 0,
    tables: 1,
  });
  assert.equal(registry.handles("h").allocate(1), 0);
});

Deno.test("a throwing dispose still removes its entry and the rest still expire", () => {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const done: number[] = [];
  registry.mint("k", 1, {
    deadline: 1,
    dispose: () => {
      throw new Error("boom");
    },
  });
  registry.mint("k", 2, { deadline: 1, dispose: (v) => done.push(v) });
  assert.throws(() => clock.advance(1), /boom/);
  assert.deepEqual(done, [2]);
  assert.equal(registry.stats().live, 0);
});

Deno.test("stats() counts live entries by kind", () => {
  const registry = new Registry();
  const q = registry.mint("question", 1);
  registry.mint("question", 2);
  registry.handles("buffer").allocate(3);
  assert.deepEqual(registry.stats(), {
    live: 3,
    byKind: { question: 2, buffer: 1 },
    deadlines: 0,
    tables: 1,
  });
  registry.release(q);
  assert.deepEqual(registry.stats().byKind, { question: 1, buffer: 1 });
  registry.close();
});

Deno.test("dropHandles() disposes what the table holds, then forgets the table and its kind", () => {
  const registry = new Registry();
  const disposed: string[] = [];
  const table = registry.handles<string>("s1.questions");
  const dispose = (value: string, why: string) => disposed.push(value + why);
  table.allocate("a", { dispose });
  table.release(table.allocate("b", { dispose }));
  registry.mint("session", 1);
  assert.deepEqual(registry.stats().byKind, { "s1.questions": 1, session: 1 });
  registry.dropHandles("s1.questions");
  assert.deepEqual(disposed, ["breleased", "areleased"]);
  assert.deepEqual(registry.stats(), {
    live: 1,
    byKind: { session: 1 },
    deadlines: 0,
    tables: 0,
  });
  registry.dropHandles("s1.questions"); // gone already: nothing to do
  assert.notEqual(registry.handles("s1.questions"), table);
  assert.equal(registry.handles("s1.questions").size, 0);
  registry.close();
});

/** mulberry32: a small seeded PRNG so a failing run can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelEntry {
  value: number;
  deadline: number;
}

for (
  const [seed, maxHashcode] of [[1, undefined], [2, 16], [3, 64], [
    4,
    undefined,
  ]]
) {
  Deno.test(`registry matches a reference model (seed ${seed}, max ${maxHashcode ?? "2^32-1"})`, () => {
    const random = prng(seed!);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
    const clock = new ManualClock();
    const registry = new Registry({ clock, maxHashcode });
    const table = registry.handles<number>("h");
    const codes = new Map<number, ModelEntry>();
    const handles = new Map<number, ModelEntry>();
    const everMinted = new Set<number>();
    const staleCodes: number[] = [];
    let disposed: string[] = [];
    let expected: string[] = [];
    let nextValue = 0;
    const dispose = (tag: string) => (v: number, why: string) =>
      disposed.push(`${tag}${v}:${why}`);
    const lowestFree = () => {
      let h = 0;
      while (handles.has(h)) h++;
      return h;
    };
    for (let step = 0; step < 3000; step++) {
      const op = random();
      const deadline = random() < 0.3
        ? clock.now() + Math.floor(random() * 50)
        : Infinity;
      const options = deadline === Infinity ? {} : { deadline };
      if (op < 0.25) {
        if (codes.size >= (maxHashcode ?? Infinity)) continue;
        const value = nextValue++;
        const code = registry.mint("c", value, {
          ...options,
          dispose: dispose("c"),
        });
        assert.ok(code >= 1 && code <= (maxHashcode ?? 0xffffffff));
        assert.ok(!codes.has(code), "minted a live code");
        if (maxHashcode === undefined) {
          assert.ok(!everMinted.has(code), "reused a code early");
        }
        everMinted.add(code);
        codes.set(code, { value, deadline });
      } else if (op < 0.45) {
        const value = nextValue++;
        const h = table.allocate(value, { ...options, dispose: dispose("h") });
        assert.equal(h, lowestFree());
        handles.set(h, { value, deadline });
      } else if (op < 0.6 && codes.size > 0) {
        const code = pick([...codes.keys()]);
        expected.push(`c${codes.get(code)!.value}:released`);
        assert.equal(registry.release(code), true);
        codes.delete(code);
        staleCodes.push(code);
      } else if (op < 0.7 && handles.size > 0) {
        const h = pick([...handles.keys()]);
        expected.push(`h${handles.get(h)!.value}:released`);
        assert.equal(table.release(h), true);
        handles.delete(h);
      } else if (op < 0.8) {
        clock.advance(Math.floor(random() * 20));
        for (const [tag, map] of [["c", codes], ["h", handles]] as const) {
          for (const [key, e] of map) {
            if (e.deadline <= clock.now()) {
              expected.push(`${tag}${e.value}:expired`);
              map.delete(key);
            }
          }
        }
      } else if (op < 0.85 && codes.size > 0) {
        const code = pick([...codes.keys()]);
        const next = random() < 0.2
          ? undefined
          : clock.now() + Math.floor(random() * 50);
        registry.extend(code, next);
        codes.get(code)!.deadline = next ?? Infinity;
      } else if (staleCodes.length > 0) {
        const code = pick(staleCodes);
        const live = codes.get(code);
        assert.equal(registry.lookup(code), live?.value);
        if (!live) assertStale(() => registry.get(code));
        const h = Math.floor(random() * 40);
        assert.equal(table.lookup(h), handles.get(h)?.value);
      }
      assert.deepEqual(disposed.sort(), expected.sort());
      disposed = [];
      expected = [];
      for (const [code, e] of codes) assert.equal(registry.get(code), e.value);
      for (const [h, e] of handles) assert.equal(table.get(h), e.value);
      assert.equal(registry.stats().live, codes.size + handles.size);
      assert.equal(table.size, handles.size);
      const withDeadline = [...codes.values(), ...handles.values()].filter((
        e,
      ) => e.deadline !== Infinity);
      assert.equal(registry.stats().deadlines, withDeadline.length);
      assert.equal(clock.pending, withDeadline.length > 0 ? 1 : 0);
    }
    registry.close();
    assert.equal(registry.stats().live, 0);
    assert.equal(disposed.length, codes.size + handles.size);
  });
}

Deno.test("timers() is a Clock whose timers are registry entries of the kind", () => {
  const clock = new ManualClock(0);
  const registry = new Registry({ clock });
  const timers = registry.timers("gift.deadline", "g1");
  const fired: string[] = [];
  timers.schedule(10, () => fired.push("a"));
  const cancelB = timers.schedule(20, () => fired.push("b"));
  timers.schedule(30, () => fired.push("c"));
  assert.equal(timers.now(), 0);
  assert.deepEqual(registry.stats().byKind, { "gift.deadline": 3 });
  cancelB();
  clock.advance(10);
  assert.deepEqual(fired, ["a"]);
  registry.close(); // disposes "c" without firing it
  clock.advance(100);
  assert.deepEqual(fired, ["a"]);
  assert.equal(registry.stats().live, 0);
  assert.equal(clock.pending, 0);
  assert.throws(() => new Registry().timers("k", 1), TypeError);
});
