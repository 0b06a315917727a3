import assert from "node:assert/strict";
import { decode } from "../../../protocol/syrup/decode.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import type { SyrupValue } from "../../../protocol/syrup/value.ts";
import { arbitraryBytes, arbitraryValue, mutate, Prng } from "./_arbitrary.ts";

/** Decodes bytes that may be garbage; anything but a value or a SyntaxError/RangeError is a bug. */
export function decodeOrReject(bytes: Uint8Array): SyrupValue | undefined {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) {
      return undefined;
    }
    throw error;
  }
}

/** Accepted input must be canonical: it re-encodes to itself (float32 aside, which re-encodes as float64). */
function assertCanonical(bytes: Uint8Array, value: SyrupValue): void {
  const again = encode(value);
  if (!bytes.includes(0x46)) assert.deepStrictEqual(again, bytes);
  assert.deepStrictEqual(decode(again), value);
}

Deno.test("decode(encode(x)) deep-equals x for 20,000 random values", () => {
  const rng = new Prng(0x5eed);
  for (let i = 0; i < 20_000; i++) {
    const value = arbitraryValue(rng);
    const bytes = encode(value);
    assert.deepStrictEqual(decode(bytes), value, `case ${i}`);
  }
});

Deno.test("decode() of 100,000 mutated encodings returns a canonical value or throws SyntaxError", () => {
  const rng = new Prng(0xbad5eed);
  let accepted = 0;
  let cases = 0;
  while (cases < 100_000) {
    const bytes = encode(arbitraryValue(rng, 3));
    for (let m = 0; m < 10; m++, cases++) {
      const damaged = mutate(rng, bytes);
      const value = decodeOrReject(damaged);
      if (value !== undefined) {
        accepted++;
        assertCanonical(damaged, value);
      }
    }
  }
  // Some mutations (a changed digit, a flipped bit in a payload) stay valid.
  assert.ok(accepted > 0 && accepted < cases, `accepted ${accepted}`);
});

Deno.test("decode() of 20,000 random byte strings returns a canonical value or throws SyntaxError", () => {
  const rng = new Prng(42);
  for (let i = 0; i < 20_000; i++) {
    const bytes = arbitraryBytes(rng, 24);
    const value = decodeOrReject(bytes);
    if (value !== undefined) assertCanonical(bytes, value);
  }
});
