/**
 * Syrup encoder: one SyrupValue to its canonical bytes.
 *
 * Syrup draft (ocapn/syrup), "Encoding" and "Canonicalization"; the table in
 * shared/ocapn-notes.md. Signatures and public IDs are computed over these
 * bytes, so the output must be canonical: dictionary keys and set items are
 * ordered by their encoded bytes, NaN has one spelling, float32 is never
 * written and duplicates are refused rather than silently dropped.
 *
 * Speed matters because every CapTP message passes through here: output goes
 * into one reusable scratch buffer, symbol encodings are cached, and sorting
 * works on byte spans inside that buffer instead of per-key arrays.
 */

import { SyrupRecord, type SyrupValue } from "./value.ts";
import { compareSpans } from "./_bytes.ts";

/** Deeper than this is almost certainly a cycle; the decoder's default is 128. */
const MAX_ENCODE_DEPTH = 1000;
const CHUNK_SIZE = 16 * 1024;
/** Below this much room left, a new chunk is started rather than growing mid-message. */
const MIN_ROOM = 512;
/** A chunk grown past this is not reused, so small outputs do not pin a huge buffer. */
const KEEP_CAPACITY = 256 * 1024;
const SYMBOL_CACHE_LIMIT = 4096;

const utf8 = new TextEncoder();
const floatScratch = new Float64Array(1);
const floatBytes = new Uint8Array(floatScratch.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const symbolCache = new Map<symbol, Uint8Array>();

// The encoder is synchronous and calls no user code, so module-level state
// is safe. Outputs are carved one after another out of a shared chunk and
// returned as subarrays: allocating a fresh ArrayBuffer per message (slice)
// cost more than the whole encode of a small message. A returned array is
// never written again; a new chunk is started when this one is full.
let buf = new Uint8Array(0);
/** Where the output being written starts in `buf`. */
let origin = 0;
let pos = 0;
/**
 * Triples (keyStart, keyEnd, entryEnd), relative to `origin`, for the
 * dictionaries and sets being written, innermost on top.
 */
let spans = new Int32Array(256);
let spanTop = 0;

/** Thrown inside the encoder; collects the path while unwinding, turned into a TypeError at the top. */
class EncodeFailure {
  readonly reason: string;
  readonly path: string[] = [];
  constructor(reason: string) {
    this.reason = reason;
  }
}

/**
 * Encode one value as canonical Syrup.
 *
 * @throws {TypeError} for a value outside the Syrup model (unregistered
 * symbol, lone surrogate, plain object, function, null, undefined), for
 * duplicate dictionary keys or set items, and for nesting past 1000 levels
 * (a cycle); the message names the path to the bad value.
 */
export function encode(value: SyrupValue): Uint8Array<ArrayBuffer> {
  if (buf.length - pos < MIN_ROOM) {
    buf = new Uint8Array(CHUNK_SIZE);
    pos = 0;
  }
  origin = pos;
  spanTop = 0;
  try {
    writeValue(value, 0);
  } catch (error) {
    pos = origin;
    if (error instanceof EncodeFailure) {
      throw new TypeError(`${error.reason} at ${"$" + error.path.join("")}`);
    }
    throw error;
  }
  const out = buf.subarray(origin, pos);
  if (buf.length > KEEP_CAPACITY) buf = new Uint8Array(0);
  return out;
}

function ensure(extra: number): void {
  if (pos + extra <= buf.length) return;
  const used = pos - origin;
  const next = new Uint8Array(Math.max(CHUNK_SIZE, (used + extra) * 2));
  next.set(buf.subarray(origin, pos));
  buf = next;
  origin = 0;
  pos = used;
}

function writeValue(value: SyrupValue, depth: number): void {
  switch (typeof value) {
    case "boolean":
      ensure(1);
      buf[pos++] = value ? 0x74 : 0x66;
      return;
    case "bigint":
      return writeInteger(value);
    case "number":
      return writeFloat(value);
    case "string":
      return writeString(value);
    case "symbol":
      return writeSymbol(value);
    case "object":
      if (value instanceof Uint8Array) return writeBytes(value);
      if (depth >= MAX_ENCODE_DEPTH) {
        throw new EncodeFailure(
          `Cannot encode nesting deeper than ${MAX_ENCODE_DEPTH} (a cycle?)`,
        );
      }
      if (Array.isArray(value)) return writeList(value, depth + 1);
      if (value instanceof SyrupRecord) return writeRecord(value, depth + 1);
      if (value instanceof Map) return writeMap(value, depth + 1);
      if (value instanceof Set) return writeSet(value, depth + 1);
  }
  throw new EncodeFailure(`Cannot encode ${describe(value)}`);
}

/** Writes a non-negative safe integer in decimal. */
function writeDecimal(n: number): void {
  ensure(16);
  if (n < 10) {
    buf[pos++] = 48 + n;
    return;
  }
  let length = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) length++;
  let i = pos + length;
  while (n >= 10) {
    const q = Math.floor(n / 10);
    buf[--i] = 48 + (n - q * 10);
    n = q;
  }
  buf[--i] = 48 + n;
  pos += length;
}

function writeInteger(value: bigint): void {
  // Number() is exact up to 2^53 and rounds monotonically past it, so the
  // range test on the converted value is sound and cheaper than on bigint.
  const n = Number(value);
  if (n >= -Number.MAX_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) {
    writeDecimal(n < 0 ? -n : n);
    ensure(1);
    buf[pos++] = n < 0 ? 0x2d : 0x2b;
    return;
  }
  const digits = (value < 0n ? -value : value).toString();
  ensure(digits.length + 1);
  for (let i = 0; i < digits.length; i++) buf[pos++] = digits.charCodeAt(i);
  buf[pos++] = value < 0n ? 0x2d : 0x2b;
}

function writeFloat(value: number): void {
  ensure(9);
  buf[pos++] = 0x44;
  if (value !== value) {
    // Canonical NaN: every NaN payload is written as 7ff8000000000000.
    buf[pos++] = 0x7f;
    buf[pos++] = 0xf8;
    buf.fill(0, pos, pos + 6);
    pos += 6;
    return;
  }
  floatScratch[0] = value;
  if (littleEndian) {
    for (let i = 7; i >= 0; i--) buf[pos++] = floatBytes[i];
  } else {
    for (let i = 0; i < 8; i++) buf[pos++] = floatBytes[i];
  }
}

function writeBytes(value: Uint8Array): void {
  writeDecimal(value.length);
  ensure(value.length + 1);
  buf[pos++] = 0x3a;
  buf.set(value, pos);
  pos += value.length;
}

/** Short strings are hand-encoded (faster than encodeInto and it sees lone surrogates). */
function writeString(value: string): void {
  const n = value.length;
  if (n > 64) return writeLongString(value);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if (c < 0xd800 || c > 0xdfff) size += 3;
    else if (c <= 0xdbff && i + 1 < n && isLow(value.charCodeAt(i + 1))) {
      size += 4;
      i++;
    } else {
      throw new EncodeFailure(
        `Cannot encode a string with a lone surrogate ${quote(value)}`,
      );
    }
  }
  writeDecimal(size);
  ensure(size + 1);
  buf[pos++] = 0x22;
  if (size === n) {
    for (let i = 0; i < n; i++) buf[pos++] = value.charCodeAt(i);
    return;
  }
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      c = 0x10000 + ((c - 0xd800) << 10) + (value.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Encodes straight into the buffer after room for the widest length prefix, then closes any gap. */
function writeLongString(value: string): void {
  if (!value.isWellFormed()) {
    throw new EncodeFailure(
      `Cannot encode a string with a lone surrogate ${quote(value)}`,
    );
  }
  const maxBytes = value.length * 3;
  const reserved = decimalLength(maxBytes) + 1;
  ensure(reserved + maxBytes);
  const start = pos;
  const { written } = utf8.encodeInto(
    value,
    buf.subarray(start + reserved, start + reserved + maxBytes),
  );
  const prefix = decimalLength(written) + 1;
  if (prefix < reserved) {
    buf.copyWithin(
      start + prefix,
      start + reserved,
      start + reserved + written,
    );
  }
  writeDecimal(written);
  buf[pos++] = 0x22;
  pos = start + prefix + written;
}

function decimalLength(n: number): number {
  let length = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    length++;
  }
  return length;
}

function writeSymbol(value: symbol): void {
  let encoded = symbolCache.get(value);
  if (encoded === undefined) {
    const name = Symbol.keyFor(value);
    if (name === undefined) {
      throw new EncodeFailure(
        `Cannot encode an unregistered symbol ${quote(String(value))}`,
      );
    }
    if (!name.isWellFormed()) {
      throw new EncodeFailure(
        `Cannot encode a symbol with a lone surrogate ${quote(name)}`,
      );
    }
    const body = utf8.encode(name);
    const prefix = utf8.encode(`${body.length}'`);
    encoded = new Uint8Array(prefix.length + body.length);
    encoded.set(prefix);
    encoded.set(body, prefix.length);
    if (symbolCache.size >= SYMBOL_CACHE_LIMIT) symbolCache.clear();
    symbolCache.set(value, encoded);
  }
  const length = encoded.length;
  ensure(length);
  if (length < 24) {
    for (let i = 0; i < length; i++) buf[pos++] = encoded[i];
  } else {
    buf.set(encoded, pos);
    pos += length;
  }
}

function writeList(value: SyrupValue[], depth: number): void {
  ensure(1);
  buf[pos++] = 0x5b;
  let i = 0;
  try {
    for (; i < value.length; i++) writeValue(value[i], depth);
  } catch (error) {
    throw withPath(error, `[${i}]`);
  }
  ensure(1);
  buf[pos++] = 0x5d;
}

function writeRecord(value: SyrupRecord, depth: number): void {
  ensure(1);
  buf[pos++] = 0x3c;
  try {
    writeValue(value.label, depth);
  } catch (error) {
    throw withPath(error, ".label");
  }
  const fields = value.fields;
  let i = 0;
  try {
    for (; i < fields.length; i++) writeValue(fields[i], depth);
  } catch (error) {
    throw withPath(error, `.fields[${i}]`);
  }
  ensure(1);
  buf[pos++] = 0x3e;
}

function writeMap(value: Map<SyrupValue, SyrupValue>, depth: number): void {
  ensure(1);
  buf[pos++] = 0x7b;
  const base = spanTop;
  reserveSpans(value.size);
  let i = 0;
  let key: SyrupValue = false;
  let inKey = true;
  try {
    for (const [k, v] of value) {
      key = k;
      inKey = true;
      const keyStart = pos - origin;
      writeValue(k, depth);
      const keyEnd = pos - origin;
      inKey = false;
      writeValue(v, depth);
      spans[spanTop++] = keyStart;
      spans[spanTop++] = keyEnd;
      spans[spanTop++] = pos - origin;
      i++;
    }
  } catch (error) {
    throw withPath(error, inKey ? `.keys[${i}]` : `.get(${describe(key)})`);
  }
  // A failure anywhere abandons the whole encode, and encode() resets the
  // span stack, so it is only popped on success.
  canonicalize(base, "dictionary key");
  spanTop = base;
  ensure(1);
  buf[pos++] = 0x7d;
}

function writeSet(value: Set<SyrupValue>, depth: number): void {
  ensure(1);
  buf[pos++] = 0x23;
  const base = spanTop;
  reserveSpans(value.size);
  let i = 0;
  try {
    for (const item of value) {
      const start = pos - origin;
      writeValue(item, depth);
      spans[spanTop++] = start;
      spans[spanTop++] = pos - origin;
      spans[spanTop++] = pos - origin;
      i++;
    }
  } catch (error) {
    throw withPath(error, `.items[${i}]`);
  }
  canonicalize(base, "set item");
  spanTop = base;
  ensure(1);
  buf[pos++] = 0x24;
}

function reserveSpans(count: number): void {
  const needed = spanTop + count * 3;
  if (needed <= spans.length) return;
  const next = new Int32Array(Math.max(needed, spans.length * 2));
  next.set(spans.subarray(0, spanTop));
  spans = next;
}

/**
 * Puts the entries written since `base` into canonical order in place.
 * Already-sorted input (the usual case for messages we build) costs one
 * comparison per entry and no allocation.
 */
function canonicalize(base: number, what: string): void {
  const count = (spanTop - base) / 3;
  let sorted = true;
  for (let e = 1; e < count; e++) {
    const a = base + (e - 1) * 3;
    const b = a + 3;
    const order = compareEntries(a, b);
    if (order === 0) throw new EncodeFailure(`Duplicate ${what}`);
    if (order > 0) sorted = false;
  }
  if (sorted) return;
  const order = Array.from({ length: count }, (_, e) => base + e * 3);
  order.sort((a, b) => compareEntries(a, b));
  for (let e = 1; e < count; e++) {
    const a = order[e - 1];
    const b = order[e];
    if (
      compareEntries(a, b) === 0
    ) {
      throw new EncodeFailure(`Duplicate ${what}`);
    }
  }
  const first = spans[base];
  const start = origin + first;
  const copy = buf.slice(start, pos);
  let out = start;
  for (const a of order) {
    const from = spans[a] - first;
    const to = spans[a + 2] - first;
    buf.set(copy.subarray(from, to), out);
    out += to - from;
  }
}

function compareEntries(a: number, b: number): number {
  return compareSpans(
    buf,
    origin + spans[a],
    origin + spans[a + 1],
    origin + spans[b],
    origin + spans[b + 1],
  );
}

function withPath(error: unknown, segment: string): unknown {
  if (error instanceof EncodeFailure) error.path.unshift(segment);
  return error;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return quote(value);
    case "function":
      return `a function ${quote(value.name)}`;
    case "symbol":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "object": {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name ? `an object of type ${quote(name)}` : "an object";
    }
    default:
      return String(value);
  }
}

function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return JSON.stringify(shown);
}
