/**
 * Eventual send against a bare promise hop, in the same run. The target is
 * an eventual send costing at most 3 times `Promise.resolve().then`.
 * Each iteration is a chain of HOPS awaited one after another, so the
 * figure is per chain; divide by HOPS for a single send.
 */
import { E, Vat } from "../runtime/mod.ts";

const HOPS = 1000;

function makePair(sameVat: boolean) {
  const vatA = new Vat({ name: "a" });
  const vatB = sameVat ? vatA : new Vat({ name: "b" });
  const pong = vatB.makeFar("Pong", { ping: (n: number) => n + 1 });
  const ping = vatA.makeFar("Ping", {
    async run(hops: number) {
      let n = 0;
      for (let i = 0; i < hops; i++) n = await E(pong).ping(n);
      return n;
    },
    runOnly(hops: number) {
      for (let i = 0; i < hops; i++) E.sendOnly(pong).ping(i);
    },
  });
  return { vatB, ping };
}

const oneVat = makePair(true);
const twoVats = makePair(false);

Deno.bench({
  name: "Promise.resolve().then chain",
  group: "eventual-send",
  baseline: true,
  async fn() {
    let n = 0;
    for (let i = 0; i < HOPS; i++) {
      n = await Promise.resolve(n).then((x) => x + 1);
    }
    if (n !== HOPS) throw new Error("Bad count");
  },
});

Deno.bench({
  name: "E(ref).ping() between two objects in one vat",
  group: "eventual-send",
  async fn() {
    if (await E(oneVat.ping).run(HOPS) !== HOPS) throw new Error("Bad count");
  },
});

Deno.bench({
  name: "E(ref).ping() across two vats",
  group: "eventual-send",
  async fn() {
    if (await E(twoVats.ping).run(HOPS) !== HOPS) throw new Error("Bad count");
  },
});

Deno.bench({
  name: "queueMicrotask fan-out",
  group: "send-only",
  baseline: true,
  async fn() {
    let n = 0;
    for (let i = 0; i < HOPS; i++) queueMicrotask(() => n++);
    await Promise.resolve();
    if (n !== HOPS) throw new Error("Bad count");
  },
});

Deno.bench({
  name: "E.sendOnly(ref).ping() across two vats",
  group: "send-only",
  async fn() {
    await E(twoVats.ping).runOnly(HOPS);
    await twoVats.vatB.whenIdle();
  },
});
