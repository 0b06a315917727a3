/**
 * Strict Syrup decoder: canonical bytes to one SyrupValue.
 *
 * Syrup draft (ocapn/syrup), "Encoding" and "Canonicalization"; the table in
 * shared/ocapn-notes.md. Bytes arrive from peers we do not trust, and
 * signatures are checked over re-encoded values, so anything with a second
 * spelling is refused rather than normalised: unsorted or duplicate
 * dictionary keys and set items, leading zeros, `0-`, non-canonical NaN.
 * Every length is checked against the limit and the remaining input before
 * anything is allocated, and nesting is bounded, so hostile input costs at
 * most linear time and no more memory than it occupies.
 *
 * Rejections are SyntaxErrors whose message names the rule and the byte
 * offset ("Unsorted dictionary key at byte 12").
 */

import { SyrupRecord, type SyrupValue } from "./value.ts";
import { compareSpans } from "./_bytes.ts";

export interface DecodeOptions {
  /** Largest byte length accepted for one bytes, string or symbol (default 16 MiB). */
  maxLength?: number;
  /** Deepest nesting of lists, dictionaries, records and sets (default 128). */
  maxDepth?: number;
  /** Most decimal digits in one integer (default 1024); bigint parsing is superlinear. */
  maxIntegerDigits?: number;
}

/** One value read by {@link decodeAt} and the offset just past it. */
export interface DecodeResult {
  value: SyrupValue;
  end: number;
}

export const DEFAULT_MAX_LENGTH = 16 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 128;
export const DEFAULT_MAX_INTEGER_DIGITS = 1024;

/** The input ended inside a value; a stream decoder waits for more bytes instead of failing. */
class TruncatedInput extends SyntaxError {}

/** Whether `error` came from input that ended too early (more bytes might complete it). */
export function isTruncation(error: unknown): boolean {
  return error instanceof TruncatedInput;
}

const DEFAULT_MAX_LENGTH_DIGITS = String(DEFAULT_MAX_LENGTH).length;

/**
 * Recently decoded symbols, direct-mapped by a hash of their bytes: CapTP
 * repeats a few dozen labels (op:deliver, desc:export...) in every message,
 * and a hit skips building the name string and the registry lookup.
 */
const SYMBOL_SLOTS = 256;
const symbolNames: (Uint8Array | undefined)[] = new Array(SYMBOL_SLOTS);
const symbolValues: symbol[] = new Array(SYMBOL_SLOTS);

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const floatScratch = new DataView(new ArrayBuffer(8));

/**
 * Decode exactly one Syrup value occupying all of `bytes`.
 *
 * @throws {SyntaxError} for malformed, non-canonical, truncated or
 * over-limit input, and for trailing bytes; the message names the offset
 */
export function decode(
  bytes: Uint8Array,
  options?: DecodeOptions,
): SyrupValue {
  const reader = new Reader(bytes, 0, options);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) {
    throw new SyntaxError(
      `Trailing bytes after the value at byte ${reader.pos}`,
    );
  }
  return value;
}

/**
 * Decode one Syrup value starting at `offset`, leaving any bytes after it.
 * Offsets in error messages are indexes into `bytes`.
 */
export function decodeAt(
  bytes: Uint8Array,
  offset: number,
  options?: DecodeOptions,
): DecodeResult {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError(`Offset out of range "${offset}"`);
  }
  const reader = new Reader(bytes, offset, options);
  const value = reader.value(0);
  return { value, end: reader.pos };
}

class Reader {
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly maxLength: number;
  readonly maxDepth: number;
  readonly maxIntegerDigits: number;
  /** Digits a length may have before it surely exceeds maxLength. */
  readonly maxLengthDigits: number;
  pos: number;

  constructor(bytes: Uint8Array, offset: number, options?: DecodeOptions) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`Cannot decode ${typeof bytes}: expected Uint8Array`);
    }
    this.bytes = bytes;
    this.end = bytes.length;
    this.pos = offset;
    this.maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxIntegerDigits = options?.maxIntegerDigits ??
      DEFAULT_MAX_INTEGER_DIGITS;
    this.maxLengthDigits = this.maxLength === DEFAULT_MAX_LENGTH
      ? DEFAULT_MAX_LENGTH_DIGITS
      : String(this.maxLength).length;
  }

  fail(rule: string, offset: number): never {
    throw new SyntaxError(`${rule} at byte ${offset}`);
  }

  truncated(what: string, offset: number): never {
    throw new TruncatedInput(
      `Unexpected end of input in ${what} at byte ${offset}`,
    );
  }

  value(depth: number): SyrupValue {
    const bytes = this.bytes;
    const at = this.pos;
    if (at >= this.end) this.truncated("a value", at);
    const b = bytes[at];
    if (b >= 0x30 && b <= 0x39) return this.numeric(at);
    switch (b) {
      case 0x74: // t
        this.pos = at + 1;
        return true;
      case 0x66: // f
        this.pos = at + 1;
        return false;
      case 0x44: // D
        return this.float64(at);
      case 0x46: // F
        return this.float32(at);
      case 0x5b: // [
        return this.list(at, depth + 1);
      case 0x7b: // {
        return this.dictionary(at, depth + 1);
      case 0x3c: // <
        return this.record(at, depth + 1);
      case 0x23: // #
        return this.set(at, depth + 1);
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
    const limit = Math.max(this.maxIntegerDigits, this.maxLengthDigits);
    let p = start;
    let n = 0;
    let b = 0;
    while (p < end) {
      b = bytes[p];
      if (b < 0x30 || b > 0x39) break;
      n = n * 10 + (b - 0x30);
      p++;
      if (p - start > limit) {
        this.fail(`Number longer than ${limit} digits`, start);
      }
    }
    const digits = p - start;
    if (digits > 1 && bytes[start] === 0x30) {
      this.fail("Leading zero in a number", start);
    }
    if (p >= end) this.truncated("a number", start);
    this.pos = p + 1;
    switch (b) {
      case 0x2b: // +
        if (digits > this.maxIntegerDigits) {
          this.fail(
            `Integer longer than ${this.maxIntegerDigits} digits`,
            start,
          );
        }
        return digits <= 15 ? BigInt(n) : BigInt(this.ascii(start, p));
      case 0x2d: // -
        if (digits > this.maxIntegerDigits) {
          this.fail(
            `Integer longer than ${this.maxIntegerDigits} digits`,
            start,
          );
        }
        if (n === 0) this.fail("Negative zero integer", start);
        return digits <= 15 ? BigInt(-n) : -BigInt(this.ascii(start, p));
      case 0x3a: { // :
        const from = this.pos;
        this.pos = this.payload(start, digits, n, "bytes");
        return bytes.slice(from, this.pos);
      }
      case 0x22: { // "
        const from = this.pos;
        this.pos = this.payload(start, digits, n, "string");
        return this.text(from, this.pos, "string");
      }
      case 0x27: { // '
        const from = this.pos;
        this.pos = this.payload(start, digits, n, "symbol");
        return this.symbol(from, this.pos);
      }
      default:
        return this.fail(
          `Expected one of + - : " ' after digits, found 0x${hex(b)}`,
          p,
        );
    }
  }

  /** Checks a declared length before anything is read or allocated; returns the payload's end. */
  payload(start: number, digits: number, length: number, what: string): number {
    if (digits > this.maxLengthDigits || length > this.maxLength) {
      this.fail(
        `Length of ${what} exceeds maxLength ${this.maxLength}`,
        start,
      );
    }
    const to = this.pos + length;
    if (to > this.end) {
      this.truncated(
        `${what} of ${length} bytes (${this.end - this.pos} remain)`,
        start,
      );
    }
    return to;
  }

  symbol(from: number, to: number): symbol {
    const bytes = this.bytes;
    const length = to - from;
    if (length > 32) return Symbol.for(this.text(from, to, "symbol"));
    let hash = length;
    for (let i = from; i < to; i++) {
      hash = Math.imul(hash ^ bytes[i], 0x1000193);
    }
    const slot = (hash ^ (hash >>> 16)) & (SYMBOL_SLOTS - 1);
    const name = symbolNames[slot];
    if (name !== undefined && name.length === length) {
      let i = 0;
      while (i < length && name[i] === bytes[from + i]) i++;
      if (i === length) return symbolValues[slot];
    }
    const value = Symbol.for(this.text(from, to, "symbol"));
    symbolNames[slot] = bytes.slice(from, to);
    symbolValues[slot] = value;
    return value;
  }

  ascii(from: number, to: number): string {
    let s = "";
    for (let i = from; i < to; i++) s += String.fromCharCode(this.bytes[i]);
    return s;
  }

  text(from: number, to: number, what: string): string {
    const bytes = this.bytes;
    if (to - from <= 32) {
      // Short ASCII (labels, method names) is built directly: cheaper than
      // a TextDecoder call or a subarray for fromCharCode.apply.
      let s = "";
      let i = from;
      for (; i < to; i++) {
        const b = bytes[i];
        if (b >= 0x80) break;
        s += String.fromCharCode(b);
      }
      if (i === to) return s;
    }
    try {
      return utf8.decode(bytes.subarray(from, to));
    } catch {
      return this.fail(`Invalid UTF-8 in ${what}`, from);
    }
  }

  float64(at: number): number {
    if (at + 9 > this.end) this.truncated("a float64", at);
    const bytes = this.bytes;
    const view = floatScratch;
    for (let i = 0; i < 8; i++) view.setUint8(i, bytes[at + 1 + i]);
    const value = view.getFloat64(0);
    if (value !== value) {
      if (bytes[at + 1] !== 0x7f || bytes[at + 2] !== 0xf8) {
        this.fail("Non-canonical NaN", at);
      }
      for (let i = 3; i < 9; i++) {
        if (bytes[at + i] !== 0) this.fail("Non-canonical NaN", at);
      }
    }
    this.pos = at + 9;
    return value;
  }

  /** float32 is outside the OCapN model but legal Syrup: read it, never write it. */
  float32(at: number): number {
    if (at + 5 > this.end) this.truncated("a float32", at);
    const bytes = this.bytes;
    const view = floatScratch;
    for (let i = 0; i < 4; i++) view.setUint8(i, bytes[at + 1 + i]);
    const value = view.getFloat32(0);
    if (
      value !== value &&
      (bytes[at + 1] !== 0x7f || bytes[at + 2] !== 0xc0 ||
        bytes[at + 3] !== 0 || bytes[at + 4] !== 0)
    ) {
      this.fail("Non-canonical NaN", at);
    }
    this.pos = at + 5;
    return value;
  }

  enter(at: number, depth: number): void {
    if (depth > this.maxDepth) {
      this.fail(`Nesting deeper than maxDepth ${this.maxDepth}`, at);
    }
    this.pos = at + 1;
  }

  /** Whether the container that opened at `at` closes here with `close`. */
  closes(close: number, at: number, what: string): boolean {
    if (this.pos >= this.end) {
      this.truncated(`${what} opened at byte ${at}`, this.pos);
    }
    if (this.bytes[this.pos] !== close) return false;
    this.pos++;
    return true;
  }

  list(at: number, depth: number): SyrupValue[] {
    this.enter(at, depth);
    const items: SyrupValue[] = [];
    while (!this.closes(0x5d, at, "a list")) items.push(this.value(depth));
    return items;
  }

  record(at: number, depth: number): SyrupRecord {
    this.enter(at, depth);
    if (this.closes(0x3e, at, "a record")) {
      this.fail("Record without a label", at);
    }
    const label = this.value(depth);
    const fields: SyrupValue[] = [];
    while (!this.closes(0x3e, at, "a record")) fields.push(this.value(depth));
    return new SyrupRecord(label, fields);
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
