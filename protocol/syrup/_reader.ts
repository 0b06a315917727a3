/**
 * The strict Syrup reader behind decode(), decodeAt() and the stream decoder.
 *
 * Syrup draft (ocapn/syrup), "Encoding" and "Canonicalization". Bytes arrive
 * from peers we do not trust, and signatures are checked over re-encoded
 * values, so anything with a second spelling is refused rather than
 * normalised: unsorted or duplicate dictionary keys and set items, leading
 * zeros, `0-`, non-canonical NaN. Every length is checked against the limit
 * and the remaining input before anything is allocated, and nesting is
 * bounded, so hostile input costs at most linear time and no more memory
 * than it occupies.
 *
 * One reader is reused across calls (decoding is synchronous and calls no
 * user code) and reads a span of a buffer, so the stream decoder needs
 * neither a subarray nor a new reader per record. `shift` is added to every
 * offset in a message, which lets the stream report offsets in the stream.
 */

import { SyrupRecord, type SyrupValue } from "./value.ts";
import { compareSpans } from "./_bytes.ts";
import {
  float32,
  float64,
  integer,
  MAX_REGISTERED_SYMBOL_BYTES,
  MAX_REGISTERED_SYMBOLS,
  symbol,
  SYMBOL_LIMIT,
  text,
} from "./_decode_scalars.ts";

export interface DecodeOptions {
  /** Largest byte length accepted for one bytes, string or symbol (default 16 MiB). */
  maxLength?: number;
  /** Deepest nesting of lists, dictionaries, records and sets (default 128). */
  maxDepth?: number;
  /** Most decimal digits in one integer (default 1024); bigint parsing is superlinear. */
  maxIntegerDigits?: number;
}

export const DEFAULT_MAX_LENGTH = 16 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 128;
export const DEFAULT_MAX_INTEGER_DIGITS = 1024;

/** The input ended inside a value; a stream decoder waits for more bytes instead of failing. */
export class TruncatedInput extends SyntaxError {}

/**
 * What a stream reader throws instead of a TruncatedInput. A stream meets a
 * truncated record at the end of nearly every chunk that splits one, and
 * building an Error (its message and stack) cost more than decoding a small
 * record, so this one object, with neither, is thrown every time.
 */
export const TRUNCATED: { readonly truncated: true } = Object.freeze({
  truncated: true,
});

const EMPTY = new Uint8Array(0);

export class Reader {
  readonly maxLength: number;
  readonly maxDepth: number;
  readonly maxIntegerDigits: number;
  /** Digits a length may have before it surely exceeds maxLength. */
  readonly maxLengthDigits: number;
  /** Digits any number may have: past both limits, it is refused unread. */
  readonly maxDigits: number;
  bytes: Uint8Array = EMPTY;
  end = 0;
  pos = 0;
  shift = 0;

  /**
   * Whether truncation throws {@link TRUNCATED} rather than a TruncatedInput:
   * set by the stream decoder while more bytes may still complete the value.
   */
  stream = false;

  constructor(options?: DecodeOptions) {
    this.maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxIntegerDigits = options?.maxIntegerDigits ??
      DEFAULT_MAX_INTEGER_DIGITS;
    this.maxLengthDigits = String(this.maxLength).length;
    this.maxDigits = Math.max(this.maxIntegerDigits, this.maxLengthDigits);
  }

  /**
   * Reads one value from `bytes[from, to)`; afterwards `pos` is just past it.
   * Offsets in messages are indexes into `bytes` plus `shift`.
   */
  read(bytes: Uint8Array, from: number, to: number, shift: number): SyrupValue {
    this.bytes = bytes;
    this.pos = from;
    this.end = to;
    this.shift = shift;
    this.top = 0;
    try {
      const value = this.value(0);
      // Do not pin the caller's buffer between calls (after a failure the
      // next call replaces it).
      this.bytes = EMPTY;
      return value;
    } finally {
      this.release();
    }
  }

  /**
   * Items of the lists and records being read, innermost last: each
   * container's items are copied out at its close into an array of exactly
   * their number. Pushing onto a fresh array instead gave every small list
   * and record a backing store sized for seventeen, most of each message's
   * allocation.
   */
  items: SyrupValue[] = [];
  top = 0;
  /** Slots of `items` written since the last release. */
  high = 0;

  keep(value: SyrupValue): void {
    const top = this.top++;
    this.items[top] = value;
    if (top >= this.high) this.high = top + 1;
  }

  /** The items kept since `base`, as a new array. */
  take(base: number): SyrupValue[] {
    const items = this.items;
    const top = this.top;
    this.top = base;
    // Literals for the short ones CapTP sends most: built inline, where
    // slice() is a call into a builtin.
    switch (top - base) {
      case 0:
        return [];
      case 1:
        return [items[base]];
      case 2:
        return [items[base], items[base + 1]];
      case 3:
        return [items[base], items[base + 1], items[base + 2]];
      case 4:
        return [items[base], items[base + 1], items[base + 2], items[base + 3]];
    }
    return items.slice(base, top);
  }

  /** Drops the references `items` holds, so no value outlives its read. */
  release(): void {
    const items = this.items;
    if (this.high > 1024) this.items = [];
    else for (let i = 0; i < this.high; i++) items[i] = undefined!;
    this.high = 0;
    this.top = 0;
  }

  fail(rule: string, offset: number): never {
    throw new SyntaxError(`${rule} at byte ${offset + this.shift}`);
  }

  truncated(what: string, offset: number): never {
    if (this.stream) throw TRUNCATED;
    throw new TruncatedInput(
      `Unexpected end of input in ${what} at byte ${offset + this.shift}`,
    );
  }

  value(depth: number): SyrupValue {
    const at = this.pos;
    if (at >= this.end) this.truncated("a value", at);
    const b = this.bytes[at];
    if (b >= 0x30 && b <= 0x39) return this.numeric(at);
    switch (b) {
      case 0x3c: // <
        return this.record(at, depth + 1);
      case 0x5b: // [
        return this.list(at, depth + 1);
      case 0x74: // t
        this.pos = at + 1;
        return true;
      case 0x66: // f
        this.pos = at + 1;
        return false;
      case 0x7b: // {
        return this.dictionary(at, depth + 1);
      case 0x23: // #
        return this.set(at, depth + 1);
      case 0x44: // D
        return this.float(at, 9);
      case 0x46: // F
        return this.float(at, 5);
      case 0x5d:
      case 0x7d:
      case 0x3e:
      case 0x24:
        return this.fail(
          `Unexpected closing ${JSON.stringify(String.fromCharCode(b))}`,
          at,
        );
      default:
        return this.fail(`Unknown type byte 0x${hex(b)}`, at);
    }
  }

  /** Integers and the length-prefixed types share a leading run of digits. */
  numeric(start: number): SyrupValue {
    const bytes = this.bytes;
    const end = this.end;
    const limit = start + this.maxDigits;
    let p = start;
    let n = 0;
    let b = 0;
    while (p < end) {
      b = bytes[p];
      if (b < 0x30 || b > 0x39) break;
      n = n * 10 + (b - 0x30);
      if (++p > limit) {
        this.fail(`Number longer than ${limit - start} digits`, start);
      }
    }
    const digits = p - start;
    if (digits > 1 && bytes[start] === 0x30) {
      this.fail("Leading zero in a number", start);
    }
    if (p >= end) this.truncated("a number", start);
    const from = p + 1;
    this.pos = from;
    if (b === 0x2b || b === 0x2d) { // + -
      if (digits > this.maxIntegerDigits) {
        this.fail(`Integer longer than ${this.maxIntegerDigits} digits`, start);
      }
      if (b === 0x2b) return integer(bytes, start, p, n);
      if (n === 0) this.fail("Negative zero integer", start);
      return -integer(bytes, start, p, n);
    }
    if (b !== 0x3a && b !== 0x22 && b !== 0x27) {
      this.fail(`Expected one of + - : " ' after digits, found 0x${hex(b)}`, p);
    }
    const what = b === 0x3a ? "bytes" : b === 0x22 ? "string" : "symbol";
    if (digits > this.maxLengthDigits || n > this.maxLength) {
      this.fail(`Length of ${what} exceeds maxLength ${this.maxLength}`, start);
    }
    const to = from + n;
    if (to > end) {
      this.truncated(`${what} of ${n} bytes (${end - from} remain)`, start);
    }
    this.pos = to;
    if (b === 0x3a) return bytes.slice(from, to);
    const value = b === 0x22 ? text(bytes, from, to) : symbol(bytes, from, to);
    if (value === undefined) this.fail(`Invalid UTF-8 in ${what}`, from);
    if (value === SYMBOL_LIMIT) {
      this.fail(
        `New symbol past the limit of ${MAX_REGISTERED_SYMBOLS} names and ${MAX_REGISTERED_SYMBOL_BYTES} bytes decoding may register`,
        start,
      );
    }
    return value;
  }

  float(at: number, size: number): number {
    if (at + size > this.end) {
      this.truncated(size === 9 ? "a float64" : "a float32", at);
    }
    const value = size === 9
      ? float64(this.bytes, at + 1)
      : float32(this.bytes, at + 1);
    if (value === undefined) this.fail("Non-canonical NaN", at);
    this.pos = at + size;
    return value;
  }

  /** Past the opening byte at `at`, once the depth is allowed. */
  enter(at: number, depth: number): void {
    if (depth > this.maxDepth) {
      this.fail(`Nesting deeper than maxDepth ${this.maxDepth}`, at);
    }
    this.pos = at + 1;
  }

  /** Whether the container that opened at `at` closes here with `close`. */
  closes(close: number, at: number, what: string): boolean {
    const pos = this.pos;
    if (pos >= this.end) this.truncated(`${what} opened at byte ${at}`, pos);
    if (this.bytes[pos] !== close) return false;
    this.pos = pos + 1;
    return true;
  }

  list(at: number, depth: number): SyrupValue[] {
    this.enter(at, depth);
    const base = this.top;
    while (!this.closes(0x5d, at, "a list")) this.keep(this.value(depth));
    return this.take(base);
  }

  record(at: number, depth: number): SyrupRecord {
    this.enter(at, depth);
    if (this.closes(0x3e, at, "a record")) {
      this.fail("Record without a label", at);
    }
    const label = this.value(depth);
    const base = this.top;
    while (!this.closes(0x3e, at, "a record")) this.keep(this.value(depth));
    return new SyrupRecord(label, this.take(base));
  }

  dictionary(at: number, depth: number): Map<SyrupValue, SyrupValue> {
    this.enter(at, depth);
    const map = new Map<SyrupValue, SyrupValue>();
    let prevStart = -1;
    let prevEnd = -1;
    while (!this.closes(0x7d, at, "a dictionary")) {
      const keyStart = this.pos;
      const key = this.value(depth);
      this.checkOrder(prevStart, prevEnd, keyStart, "dictionary key");
      prevStart = keyStart;
      prevEnd = this.pos;
      const value = this.value(depth);
      const size = map.size;
      map.set(key, value);
      this.checkDistinct(size, map.size, key, keyStart, "dictionary key");
    }
    return map;
  }

  set(at: number, depth: number): Set<SyrupValue> {
    this.enter(at, depth);
    const set = new Set<SyrupValue>();
    let prevStart = -1;
    let prevEnd = -1;
    while (!this.closes(0x24, at, "a set")) {
      const itemStart = this.pos;
      const item = this.value(depth);
      this.checkOrder(prevStart, prevEnd, itemStart, "set item");
      prevStart = itemStart;
      prevEnd = this.pos;
      const size = set.size;
      set.add(item);
      this.checkDistinct(size, set.size, item, itemStart, "set item");
    }
    return set;
  }

  checkOrder(
    prevStart: number,
    prevEnd: number,
    start: number,
    what: string,
  ): void {
    if (prevStart < 0) return;
    const order = compareSpans(this.bytes, prevStart, prevEnd, start, this.pos);
    if (order === 0) this.fail(`Duplicate ${what}`, start);
    if (order > 0) this.fail(`Unsorted ${what}`, start);
  }

  /**
   * Distinct encodings can still collide as JS keys (float32 and float64 of
   * one number; +0 and -0, which Map and Set conflate), and -0 cannot survive
   * a Map or Set at all; either way the value would not re-encode the same.
   */
  checkDistinct(
    before: number,
    after: number,
    key: SyrupValue,
    start: number,
    what: string,
  ): void {
    if (before === after) this.fail(`Duplicate ${what} after decoding`, start);
    if (key === 0 && 1 / (key as number) < 0) {
      this.fail(`Negative zero as a ${what}`, start);
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
