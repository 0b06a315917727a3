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
import { describe, EncodeFailure, withPath } from "./_encode_failure.ts";
import {
  longStringRoom,
  putDecimal,
  putLongString,
  putUtf8,
  SHORT_STRING,
  symbolBytes,
  utf8Size,
} from "./_encode_text.ts";

/** Deeper than this is almost certainly a cycle; the decoder's default is 128. */
const MAX_ENCODE_DEPTH = 1000;
const CHUNK_SIZE = 16 * 1024;
/** Below this much room left, a new chunk is started rather than growing mid-message. */
const MIN_ROOM = 512;
/** A chunk grown past this is not reused, so small outputs do not pin a huge buffer. */
const KEEP_CAPACITY = 256 * 1024;
const SYMBOL_CACHE_LIMIT = 4096;

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
  pos = putDecimal(buf, pos, n);
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

function writeString(value: string): void {
  if (value.length > SHORT_STRING) {
    ensure(longStringRoom(value));
    pos = putLongString(buf, pos, value);
    return;
  }
  const size = utf8Size(value);
  writeDecimal(size);
  ensure(size + 1);
  buf[pos++] = 0x22;
  if (size === value.length) {
    const out = buf;
    const at = pos;
    for (let i = 0; i < size; i++) out[at + i] = value.charCodeAt(i);
    pos += size;
  } else {
    pos = putUtf8(buf, pos, value);
  }
}

function writeSymbol(value: symbol): void {
  let encoded = symbolCache.get(value);
  if (encoded === undefined) {
    encoded = symbolBytes(value);
    if (symbolCache.size >= SYMBOL_CACHE_LIMIT) symbolCache.clear();
    symbolCache.set(value, encoded);
  }
  const length = encoded.length;
  ensure(length);
  if (length < 24) {
    // Locals, not the module's `buf` and `pos`: those live in a context
    // slot that the loop would otherwise load and store per byte.
    const out = buf;
    const at = pos;
    for (let i = 0; i < length; i++) out[at + i] = encoded[i];
  } else {
    buf.set(encoded, pos);
  }
  pos += length;
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
    if (compareEntries(order[e - 1], order[e]) === 0) {
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
