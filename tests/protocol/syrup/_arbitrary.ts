/**
 * Seeded random Syrup values and byte mutations for the property tests and
 * the fuzz script. Deterministic per seed so a failure can be replayed.
 */

import { SyrupRecord, type SyrupValue } from "../../../protocol/syrup/value.ts";
import { encode } from "../../../protocol/syrup/encode.ts";

/** mulberry32: tiny, fast, good enough to drive test-case generation. */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// A bounded pool: every decoded symbol is registered for the life of the
// process, so the fuzzer must not mint an unbounded number of names.
const SYMBOL_NAMES = [
  "",
  "a",
  "op:deliver",
  "desc:export",
  "desc:import-object",
  "fulfill",
  "break",
  "alive?",
  "héllo",
  "😀",
  "make-car",
  "\u{feff}bom",
];

const SPECIAL_FLOATS = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1.5,
  -34.5,
  8.2,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  2 ** 53,
];

const SPECIAL_INTEGERS = [
  0n,
  1n,
  -1n,
  9n,
  10n,
  999_999_999_999_999n,
  1_000_000_000_000_000n,
  -1_000_000_000_000_000n,
  2n ** 53n,
  -(2n ** 53n) - 1n,
  2n ** 200n,
  -(3n ** 90n),
];

function randomString(rng: Prng, maxLength: number): string {
  const length = rng.int(maxLength + 1);
  let s = "";
  for (let i = 0; i < length; i++) {
    const kind = rng.int(10);
    if (kind < 6) s += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (kind < 8) s += String.fromCharCode(0x80 + rng.int(0x700));
    else if (kind < 9) {
      let c = 0x800 + rng.int(0xf800);
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfeff;
      s += String.fromCharCode(c);
    } else s += String.fromCodePoint(0x10000 + rng.int(0x100000));
  }
  return s;
}

function randomAtom(rng: Prng): SyrupValue {
  switch (rng.int(8)) {
    case 0:
      return rng.next() < 0.5;
    case 1:
      return rng.next() < 0.5
        ? rng.pick(SPECIAL_INTEGERS)
        : BigInt(Math.floor((rng.next() - 0.5) * 2 ** rng.int(54)));
    case 2: {
      if (rng.next() < 0.3) return rng.pick(SPECIAL_FLOATS);
      const view = new DataView(rng.bytes(8).buffer);
      return view.getFloat64(0);
    }
    case 3:
      return rng.bytes(rng.next() < 0.9 ? rng.int(12) : rng.int(300));
    case 4:
    case 5:
      return randomString(rng, rng.next() < 0.9 ? 10 : 120);
    default:
      return Symbol.for(rng.pick(SYMBOL_NAMES));
  }
}

/** A random value of nesting at most `depth`, with canonical-distinct keys. */
export function arbitraryValue(rng: Prng, depth = 4): SyrupValue {
  if (depth <= 0 || rng.next() < 0.45) return randomAtom(rng);
  const size = rng.int(6);
  switch (rng.int(4)) {
    case 0:
      return Array.from({ length: size }, () => arbitraryValue(rng, depth - 1));
    case 1: {
      const map = new Map<SyrupValue, SyrupValue>();
      const seen = new Set<string>();
      for (let i = 0; i < size; i++) {
        const key = arbitraryValue(rng, depth - 1);
        const id = encode(key).join(",");
        if (seen.has(id) || isNegativeZero(key)) continue;
        seen.add(id);
        map.set(key, arbitraryValue(rng, depth - 1));
      }
      return map;
    }
    case 2: {
      const set = new Set<SyrupValue>();
      const seen = new Set<string>();
      for (let i = 0; i < size; i++) {
        const item = arbitraryValue(rng, depth - 1);
        const id = encode(item).join(",");
        if (seen.has(id) || isNegativeZero(item)) continue;
        seen.add(id);
        set.add(item);
      }
      return set;
    }
    default:
      return new SyrupRecord(
        rng.next() < 0.8
          ? Symbol.for(rng.pick(SYMBOL_NAMES))
          : arbitraryValue(rng, depth - 1),
        Array.from({ length: size }, () => arbitraryValue(rng, depth - 1)),
      );
  }
}

function isNegativeZero(value: SyrupValue): boolean {
  return value === 0 && 1 / (value as number) < 0;
}

const SIGNIFICANT: readonly number[] = Array.from(
  new TextEncoder().encode("0123456789+-:\"'tfDF[]{}<>#$"),
);

/** A damaged copy of `bytes`: flipped, replaced, inserted, deleted or truncated. */
export function mutate(rng: Prng, bytes: Uint8Array): Uint8Array {
  const out = Array.from(bytes);
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(out.length + 1);
    const byte = rng.next() < 0.5 ? rng.pick(SIGNIFICANT) : rng.int(256);
    switch (rng.int(5)) {
      case 0:
        if (at < out.length) out[at] ^= 1 << rng.int(8);
        break;
      case 1:
        if (at < out.length) out[at] = byte;
        break;
      case 2:
        out.splice(at, 0, byte);
        break;
      case 3:
        out.splice(at, 1);
        break;
      default:
        out.length = at;
    }
  }
  return Uint8Array.from(out);
}

/** Random bytes biased towards Syrup's structural characters. */
export function arbitraryBytes(rng: Prng, maxLength: number): Uint8Array {
  const out = new Uint8Array(rng.int(maxLength + 1));
  for (let i = 0; i < out.length; i++) {
    out[i] = rng.next() < 0.7 ? rng.pick(SIGNIFICANT) : rng.int(256);
  }
  return out;
}
