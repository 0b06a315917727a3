/**
 * Long-running Syrup fuzzer (`deno task fuzz`): the property tests' checks,
 * run for many more cases. Every input must decode to a value that
 * re-encodes canonically, or be refused with SyntaxError/RangeError; random
 * chunkings of a stream must give the same records. Any other exception is
 * a bug: it is printed with the input in hex and the process exits 1.
 *
 *   deno task fuzz [--cases 2000000] [--seconds 60] [--seed 1]
 */

import { parseArgs } from "node:util";
import assert from "node:assert/strict";
import { decode } from "../../../protocol/syrup/decode.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import {
  encodeFrame,
  SyrupStreamDecoder,
} from "../../../protocol/syrup/stream.ts";
import type { SyrupValue } from "../../../protocol/syrup/value.ts";
import { arbitraryBytes, arbitraryValue, mutate, Prng } from "./_arbitrary.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    cases: { type: "string", default: "2000000" },
    seconds: { type: "string", default: "60" },
    seed: { type: "string", default: String(Date.now() % 2 ** 31) },
  },
});
const maxCases = Number(args.cases);
const deadline = performance.now() + Number(args.seconds) * 1000;
const seed = Number(args.seed);
const rng = new Prng(seed);
const counts = {
  roundTrip: 0,
  mutated: 0,
  random: 0,
  stream: 0,
  accepted: 0,
  rejected: 0,
};

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function check(bytes: Uint8Array): void {
  let value: SyrupValue;
  try {
    value = decode(bytes);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) {
      counts.rejected++;
      return;
    }
    throw error;
  }
  counts.accepted++;
  const again = encode(value);
  // float32 input is accepted but re-encodes as float64.
  if (!bytes.includes(0x46)) assert.deepStrictEqual(again, bytes);
  assert.deepStrictEqual(decode(again), value);
}

function streamCase(): void {
  const framing = rng.next() < 0.5 ? "bare" : "netstring";
  const values = Array.from(
    { length: 1 + rng.int(4) },
    () => arbitraryValue(rng, 3),
  );
  const frames = values.map((v) => encodeFrame(v, framing));
  const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) wire.set(f, (at += f.length) - f.length);
  const decoder = new SyrupStreamDecoder({ framing });
  const got: SyrupValue[] = [];
  for (let i = 0; i < wire.length;) {
    const size = 1 + rng.int(rng.next() < 0.5 ? 4 : 64);
    const { values, error } = decoder.push(wire.subarray(i, i + size));
    if (error) throw error;
    got.push(...values);
    i += size;
  }
  assert.deepStrictEqual(got, values);
}

let cases = 0;
let input: Uint8Array = new Uint8Array(0);
const started = performance.now();
try {
  while (
    cases < maxCases && (cases % 1000 !== 0 || performance.now() < deadline)
  ) {
    const kind = rng.int(20);
    if (kind === 0) {
      input = new Uint8Array(0);
      streamCase();
      counts.stream++;
    } else if (kind < 4) {
      const value = arbitraryValue(rng);
      input = encode(value);
      assert.deepStrictEqual(decode(input), value);
      counts.roundTrip++;
    } else if (kind < 16) {
      input = mutate(rng, encode(arbitraryValue(rng, 3)));
      check(input);
      counts.mutated++;
    } else {
      input = arbitraryBytes(rng, 32);
      check(input);
      counts.random++;
    }
    cases++;
  }
} catch (error) {
  console.error(`FAILED at case ${cases} (seed ${seed}), input ${hex(input)}`);
  console.error(error);
  Deno.exit(1);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    seed,
    cases,
    seconds: Number(seconds.toFixed(1)),
    ...counts,
  }),
);
