import assert from "node:assert/strict";
import { encode } from "../../../protocol/syrup/encode.ts";
import {
  encodeFrame,
  frameEncoded,
  type Framing,
  SyrupStreamDecoder,
} from "../../../protocol/syrup/stream.ts";
import { record, type SyrupValue } from "../../../protocol/syrup/value.ts";
import { arbitraryValue, Prng } from "./_arbitrary.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Cuts `bytes` at random points, sometimes into single bytes, sometimes not at all. */
function chunk(rng: Prng, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = rng.next() < 0.3 ? 1 : 1 + rng.int(rng.next() < 0.5 ? 8 : 200);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

for (const framing of ["bare", "netstring"] as Framing[]) {
  Deno.test(`SyrupStreamDecoder (${framing}) yields the same values under random chunkings`, () => {
    const rng = new Prng(framing === "bare" ? 7 : 8);
    for (let round = 0; round < 300; round++) {
      const values = Array.from(
        { length: 1 + rng.int(6) },
        () => arbitraryValue(rng),
      );
      const wire = concat(values.map((v) => encodeFrame(v, framing)));
      const decoder = new SyrupStreamDecoder({ framing });
      const got: SyrupValue[] = [];
      for (const part of chunk(rng, wire)) got.push(...decoder.push(part));
      assert.deepStrictEqual(got, values, `round ${round}`);
      assert.equal(decoder.buffered, 0);
    }
  });

  Deno.test(`SyrupStreamDecoder (${framing}) returns several records from one chunk`, () => {
    const values = [true, 12n, record("op:abort", "bye"), [new Uint8Array(3)]];
    const decoder = new SyrupStreamDecoder({ framing });
    const wire = concat(values.map((v) => encodeFrame(v, framing)));
    assert.deepStrictEqual(decoder.push(wire), values);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) waits across a split length prefix`, () => {
    const value = new Uint8Array(1234).fill(9);
    const wire = encodeFrame(value, framing);
    const decoder = new SyrupStreamDecoder({ framing });
    assert.deepStrictEqual(decoder.push(wire.subarray(0, 2)), []);
    assert.deepStrictEqual(decoder.push(wire.subarray(2, 600)), []);
    assert.deepStrictEqual(decoder.push(wire.subarray(600)), [value]);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) takes a large record in many small chunks`, () => {
    const value = Array.from({ length: 20_000 }, (_, i) => BigInt(i));
    const wire = encodeFrame([value, "end"], framing);
    const decoder = new SyrupStreamDecoder({ framing });
    const got: SyrupValue[] = [];
    for (let at = 0; at < wire.length; at += 16) {
      got.push(...decoder.push(wire.subarray(at, at + 16)));
    }
    assert.deepStrictEqual(got, [[value, "end"]]);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) rejects a record past maxLength before it arrives`, () => {
    const decoder = new SyrupStreamDecoder({ framing, maxLength: 100 });
    const wire = encodeFrame([new Uint8Array(500)], framing);
    assert.throws(() => decoder.push(wire.subarray(0, 8)), SyntaxError);
    assert.throws(() => decoder.push(latin1("t")), SyntaxError);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) rejects malformed records and stays failed`, () => {
    const decoder = new SyrupStreamDecoder({ framing });
    const bad = frameEncoded(latin1("[1+x]"), framing);
    assert.throws(() => decoder.push(bad), /Unknown type byte 0x78 at byte 3/);
    assert.throws(() => decoder.push(encode(true)), SyntaxError);
  });
}

Deno.test("SyrupStreamDecoder (bare) rejects nesting past maxDepth while incomplete", () => {
  const decoder = new SyrupStreamDecoder({ framing: "bare", maxDepth: 4 });
  assert.deepStrictEqual(decoder.push(latin1("[[[")), []);
  assert.throws(() => decoder.push(latin1("[[")), /maxDepth 4 at byte 4/);
});

Deno.test("SyrupStreamDecoder (netstring) rejects a frame length with a leading zero", () => {
  const decoder = new SyrupStreamDecoder({ framing: "netstring" });
  assert.throws(() => decoder.push(latin1("01:t")), /Leading zero/);
});

Deno.test("SyrupStreamDecoder (netstring) rejects a frame holding two values", () => {
  const decoder = new SyrupStreamDecoder({ framing: "netstring" });
  assert.throws(() => decoder.push(latin1("2:tf")), /Trailing bytes/);
});

Deno.test("encodeFrame() prefixes netstring frames with the Syrup length", () => {
  assert.deepStrictEqual(encodeFrame("hi", "netstring"), latin1('4:2"hi'));
  assert.deepStrictEqual(encodeFrame("hi", "bare"), latin1('2"hi'));
  assert.throws(() => encodeFrame("hi", "x" as Framing), TypeError);
});
