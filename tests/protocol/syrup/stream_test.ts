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

/** The records `chunk` completes; throws the stream's error, as these cases expect none. */
function pushOk(decoder: SyrupStreamDecoder, chunk: Uint8Array): SyrupValue[] {
  const { values, error } = decoder.push(chunk);
  if (error) throw error;
  return values;
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
      for (const part of chunk(rng, wire)) got.push(...pushOk(decoder, part));
      assert.deepStrictEqual(got, values, `round ${round}`);
      assert.equal(decoder.buffered, 0);
    }
  });

  Deno.test(`SyrupStreamDecoder (${framing}) returns several records from one chunk`, () => {
    const values = [true, 12n, record("op:abort", "bye"), [new Uint8Array(3)]];
    const decoder = new SyrupStreamDecoder({ framing });
    const wire = concat(values.map((v) => encodeFrame(v, framing)));
    assert.deepStrictEqual(pushOk(decoder, wire), values);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) waits across a split length prefix`, () => {
    const value = new Uint8Array(1234).fill(9);
    const wire = encodeFrame(value, framing);
    const decoder = new SyrupStreamDecoder({ framing });
    assert.deepStrictEqual(pushOk(decoder, wire.subarray(0, 2)), []);
    assert.deepStrictEqual(pushOk(decoder, wire.subarray(2, 600)), []);
    assert.deepStrictEqual(pushOk(decoder, wire.subarray(600)), [value]);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) takes a large record in many small chunks`, () => {
    const value = Array.from({ length: 20_000 }, (_, i) => BigInt(i));
    const wire = encodeFrame([value, "end"], framing);
    const decoder = new SyrupStreamDecoder({ framing });
    const got: SyrupValue[] = [];
    for (let at = 0; at < wire.length; at += 16) {
      got.push(...pushOk(decoder, wire.subarray(at, at + 16)));
    }
    assert.deepStrictEqual(got, [[value, "end"]]);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) rejects a record past maxLength before it arrives`, () => {
    const decoder = new SyrupStreamDecoder({ framing, maxLength: 100 });
    const wire = encodeFrame([new Uint8Array(500)], framing);
    assert.throws(() => pushOk(decoder, wire.subarray(0, 8)), SyntaxError);
    assert.throws(() => pushOk(decoder, latin1("t")), SyntaxError);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) rejects a record past maxLength that arrives whole`, () => {
    // Many small items, so no single string or bytes is over the limit.
    const big = Array.from({ length: 400 }, (_, i) => BigInt(i));
    const wire = encodeFrame(big, framing);
    // Alone in an empty buffer, behind a good record, and after a split.
    const before = encodeFrame("ok", framing);
    for (
      const chunks of [
        [wire],
        [concat([before, wire])],
        [before.subarray(0, 1), concat([before.subarray(1), wire])],
      ]
    ) {
      const decoder = new SyrupStreamDecoder({ framing, maxLength: 1000 });
      const results = chunks.map((chunk) => decoder.push(chunk));
      const last = results[results.length - 1];
      assert.match(String(last.error), /longer than maxLength 1000/);
      assert.ok(!results.some((r) => r.values.some((v) => Array.isArray(v))));
    }
  });

  Deno.test(`SyrupStreamDecoder (${framing}) rejects malformed records and stays failed`, () => {
    const decoder = new SyrupStreamDecoder({ framing });
    const bad = frameEncoded(latin1("[1+x]"), framing);
    // The offset counts from the start of the stream, frame prefix included.
    const offset = framing === "bare" ? 3 : 5;
    assert.throws(
      () => pushOk(decoder, bad),
      new RegExp(`Unknown type byte 0x78 at byte ${offset}$`),
    );
    assert.throws(() => pushOk(decoder, encode(true)), SyntaxError);
  });
}

for (const framing of ["bare", "netstring"] as Framing[]) {
  Deno.test(`SyrupStreamDecoder (${framing}) returns the records before bad bytes with the error`, () => {
    const good = [true, record("op:abort", "bye")];
    const goodWire = concat(good.map((v) => encodeFrame(v, framing)));
    const bad = frameEncoded(latin1("[1+x]"), framing);
    const decoder = new SyrupStreamDecoder({ framing });
    const first = decoder.push(concat([goodWire, bad, encode(false)]));
    assert.deepStrictEqual(first.values, good);
    assert.ok(first.error instanceof SyntaxError);
    const offset = goodWire.length + (framing === "bare" ? 3 : 5);
    assert.match(
      first.error.message,
      new RegExp(`Unknown type byte 0x78 at byte ${offset}$`),
    );
    assert.equal(decoder.buffered, 0);
    const later = decoder.push(encode(true));
    assert.deepStrictEqual(later.values, []);
    assert.equal(later.error, first.error);
  });

  Deno.test(`SyrupStreamDecoder (${framing}) counts error offsets from the start of the stream`, () => {
    const decoder = new SyrupStreamDecoder({ framing });
    const one = encodeFrame(record("op:abort", "bye"), framing);
    const two = encodeFrame("ok", framing);
    assert.deepStrictEqual(decoder.push(one), {
      values: [record("op:abort", "bye")],
      error: undefined,
    });
    // Split the bad record so the error is found in a later chunk.
    const bad = frameEncoded(latin1("[1+2+x]"), framing);
    assert.deepStrictEqual(decoder.push(concat([two, bad.subarray(0, 3)])), {
      values: ["ok"],
      error: undefined,
    });
    const { values, error } = decoder.push(bad.subarray(3));
    assert.deepStrictEqual(values, []);
    const offset = one.length + two.length + (framing === "bare" ? 5 : 7);
    assert.match(error?.message ?? "", new RegExp(`0x78 at byte ${offset}$`));
  });
}

Deno.test("SyrupStreamDecoder (netstring) names the stream offset of a bad frame length", () => {
  const decoder = new SyrupStreamDecoder({ framing: "netstring" });
  const { values, error } = decoder.push(latin1("1:t12x"));
  assert.deepStrictEqual(values, [true]);
  assert.match(
    error?.message ?? "",
    /Expected a frame length and ":" at byte 5$/,
  );
});

Deno.test("SyrupStreamDecoder.push() throws a TypeError for a chunk that is not bytes", () => {
  const decoder = new SyrupStreamDecoder();
  assert.throws(() => decoder.push("t" as unknown as Uint8Array), TypeError);
});

Deno.test("SyrupStreamDecoder (bare) rejects nesting past maxDepth while incomplete", () => {
  const decoder = new SyrupStreamDecoder({ framing: "bare", maxDepth: 4 });
  assert.deepStrictEqual(pushOk(decoder, latin1("[[[")), []);
  assert.throws(() => pushOk(decoder, latin1("[[")), /maxDepth 4 at byte 4/);
});

Deno.test("SyrupStreamDecoder (netstring) rejects a frame length with a leading zero", () => {
  const decoder = new SyrupStreamDecoder({ framing: "netstring" });
  assert.throws(() => pushOk(decoder, latin1("01:t")), /Leading zero/);
});

Deno.test("SyrupStreamDecoder (netstring) rejects a frame holding two values", () => {
  const decoder = new SyrupStreamDecoder({ framing: "netstring" });
  assert.throws(() => pushOk(decoder, latin1("2:tf")), /Trailing bytes/);
});

Deno.test("encodeFrame() prefixes netstring frames with the Syrup length", () => {
  assert.deepStrictEqual(encodeFrame("hi", "netstring"), latin1('4:2"hi'));
  assert.deepStrictEqual(encodeFrame("hi", "bare"), latin1('2"hi'));
  assert.throws(() => encodeFrame("hi", "x" as Framing), TypeError);
});

Deno.test("SyrupStreamDecoder (bare) keeps no view of a pushed chunk", () => {
  // A netlayer reads into one buffer and pushes views of it, so the tail of
  // a split record must be copied before push returns.
  const values = [record("op:abort", "one"), "two", new Uint8Array([1, 2, 3])];
  const wire = concat(values.map((v) => encode(v)));
  const decoder = new SyrupStreamDecoder();
  const reused = new Uint8Array(wire.length);
  const got: SyrupValue[] = [];
  for (const cut of [[0, 9], [9, 20], [20, wire.length]]) {
    const n = cut[1] - cut[0];
    reused.set(wire.subarray(cut[0], cut[1]));
    got.push(...pushOk(decoder, reused.subarray(0, n)));
    reused.fill(0x78);
  }
  assert.deepStrictEqual(got, values);
  assert.equal(decoder.buffered, 0);
});

Deno.test("SyrupStreamDecoder (bare) rejects a run of digits past the limit while incomplete", () => {
  const decoder = new SyrupStreamDecoder({ maxIntegerDigits: 8 });
  assert.deepStrictEqual(pushOk(decoder, latin1("[1234")), []);
  const { error } = decoder.push(latin1("56789012"));
  assert.match(error?.message ?? "", /^Number longer than 8 digits at byte 1$/);
});

Deno.test("SyrupStreamDecoder.push() reads only the first `length` bytes of a reused buffer", () => {
  // A netlayer may pass its whole read buffer and the count it read, with
  // bytes of an older read after them.
  for (const framing of ["bare", "netstring"] as const) {
    const values = [record("op:abort", "one"), "two", new Uint8Array([1, 2])];
    const wire = concat(values.map((v) => encodeFrame(v, framing)));
    const decoder = new SyrupStreamDecoder({ framing });
    const buffer = new Uint8Array(64);
    const got: SyrupValue[] = [];
    for (const [from, to] of [[0, 5], [5, 17], [17, wire.length]]) {
      buffer.fill(0x5d); // a stray "]" if it were ever read
      buffer.set(wire.subarray(from, to));
      const { values: out, error } = decoder.push(buffer, to - from);
      assert.equal(error, undefined);
      got.push(...out);
    }
    assert.deepStrictEqual(got, values);
    assert.equal(decoder.buffered, 0);
  }
});

Deno.test("SyrupStreamDecoder.push() throws a RangeError for a length outside the chunk", () => {
  const decoder = new SyrupStreamDecoder();
  for (const length of [-1, 2, 0.5, NaN]) {
    assert.throws(() => decoder.push(latin1("t"), length), RangeError);
  }
});
