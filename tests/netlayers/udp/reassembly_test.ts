import assert from "node:assert/strict";
import { Registry } from "../../../protocol/registry.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { Reassembly } from "../../../netlayers/udp/reassembly.ts";
import { resolveDataOptions } from "../../../netlayers/udp/options.ts";
import { fragmentStride } from "../../../netlayers/udp/wire.ts";

function setup(options = {}) {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const delivered: Uint8Array[] = [];
  const r = new Reassembly({
    registry,
    clock,
    options: resolveDataOptions({ reassemblyTimeout: 1000, ...options }),
    deliver: (m) => delivered.push(m),
  });
  return { clock, registry, delivered, r };
}

function fragment(
  sequence: number,
  length: number,
  count: number,
  index: number,
) {
  const stride = fragmentStride(length, count);
  const bytes = new Uint8Array(
    Math.min(length, (index + 1) * stride) - index * stride,
  )
    .fill(sequence * 16 + index);
  return {
    header: { session: 1, packetNumber: 0, sequence, index, count, length },
    bytes,
  };
}

function offer(r: Reassembly, f: ReturnType<typeof fragment>) {
  return r.offer(f.header, f.bytes);
}

Deno.test("Reassembly frees an incomplete message when its deadline passes", () => {
  const { clock, registry, r } = setup();
  assert.equal(offer(r, fragment(0, 3000, 3, 0)), "accepted");
  assert.equal(registry.stats().byKind["udp-reassembly"], 1);
  clock.advance(999);
  assert.equal(r.stats().open, 1);
  clock.advance(1);
  assert.deepEqual(registry.stats(), {
    live: 0,
    byKind: {},
    deadlines: 0,
    tables: 0,
  });
  assert.equal(r.stats().expired, 1);
  assert.equal(r.stats().bufferedBytes, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("Reassembly delivers in sequence order and counts duplicates", () => {
  const { registry, delivered, r } = setup();
  offer(r, fragment(1, 10, 1, 0));
  assert.equal(delivered.length, 0, "waits for message 0");
  assert.equal(
    registry.stats().deadlines,
    0,
    "a complete message keeps no deadline",
  );
  offer(r, fragment(0, 20, 2, 1));
  assert.equal(offer(r, fragment(0, 20, 2, 1)), "duplicate");
  offer(r, fragment(0, 20, 2, 0));
  assert.deepEqual(delivered.map((m) => m.length), [20, 10]);
  assert.deepEqual(delivered[0], new Uint8Array(20).fill(0, 0, 10).fill(1, 10));
  assert.equal(offer(r, fragment(0, 20, 2, 0)), "duplicate");
  assert.equal(r.stats().duplicates, 2);
  assert.equal(registry.stats().live, 0);
});

Deno.test("Reassembly refuses fragments past its open-message and byte limits", () => {
  const { registry, r } = setup({
    maxOpenMessages: 4,
    maxBufferedBytes: 1000,
    maxMessageBytes: 1000,
  });
  assert.equal(offer(r, fragment(4, 10, 1, 0)), "refused");
  assert.equal(offer(r, fragment(1, 1000, 2, 0)), "accepted");
  assert.equal(offer(r, fragment(2, 1000, 2, 0)), "accepted");
  assert.equal(
    offer(r, fragment(3, 10, 2, 0)),
    "refused",
    "over the byte limit",
  );
  assert.equal(offer(r, fragment(1, 999, 3, 0)), "refused", "length changed");
  assert.equal(r.stats().refused, 3);
  r.close();
  assert.equal(registry.stats().live, 0);
});

Deno.test("Reassembly restarts a message split again into more fragments", () => {
  const { delivered, r } = setup();
  offer(r, fragment(0, 3000, 2, 0));
  assert.equal(offer(r, fragment(0, 3000, 4, 1)), "accepted");
  assert.equal(offer(r, fragment(0, 3000, 2, 1)), "duplicate", "stale split");
  for (const i of [0, 2, 3]) offer(r, fragment(0, 3000, 4, i));
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0][0], 0);
  assert.equal(delivered[0][2999], 3);
});
