/**
 * The leaf readers of the Syrup decoder: integers, floats, text and symbols.
 *
 * Syrup draft (ocapn/syrup), "Encoding"; the value table in
 * shared/ocapn-notes.md. Split from the container walk in _reader.ts so each
 * reads in one sitting. These are plain functions over a byte span that
 * return a value or a sentinel; the reader owns the error messages, so no
 * per-value closure or try/catch sits on the hot path.
 */

/** BigInt() for the integers CapTP sends most (positions, counts, small ids). */
const SMALL_INTEGERS = 1024;
const smallIntegers: bigint[] = Array.from(
  { length: SMALL_INTEGERS },
  (_, i) => BigInt(i),
);

/** The integer whose decimal digits are `bytes[from, to)`; `n` is their value when it is exact. */
export function integer(
  bytes: Uint8Array,
  from: number,
  to: number,
  n: number,
): bigint {
  if (n < SMALL_INTEGERS) return smallIntegers[n];
  return to - from <= 15 ? BigInt(n) : BigInt(ascii(bytes, from, to));
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes[from, to)` as UTF-8, or undefined when it is not well-formed UTF-8. */
export function text(
  bytes: Uint8Array,
  from: number,
  to: number,
): string | undefined {
  if (to - from <= 32) {
    // Short ASCII (labels, method names) is built directly: cheaper than a
    // TextDecoder call, which needs a subarray and crosses into native code.
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
    return undefined;
  }
}

/**
 * V8 never frees a symbol registered with Symbol.for, so a peer sending
 * ever new symbol names would grow the process without end. Decoding
 * registers at most this many distinct names, of at most this many bytes
 * in all; past that, only names already registered decode, and a new one
 * fails the message (the peer is aborted; honest peers reuse a vocabulary
 * of labels and selectors far smaller than this).
 */
export const MAX_REGISTERED_SYMBOLS = 65_536;
export const MAX_REGISTERED_SYMBOL_BYTES = 4 * 1024 * 1024;
/** What `symbol` returns when a new name would pass those limits. */
export const SYMBOL_LIMIT = null;
const registered = new Set<string>();
let registeredBytes = 0;

function register(name: string, bytes: number): symbol | typeof SYMBOL_LIMIT {
  if (!registered.has(name)) {
    if (
      registered.size >= MAX_REGISTERED_SYMBOLS ||
      registeredBytes + bytes > MAX_REGISTERED_SYMBOL_BYTES
    ) return SYMBOL_LIMIT;
    registered.add(name);
    registeredBytes += bytes;
  }
  return Symbol.for(name);
}

/**
 * Recently decoded symbols, direct-mapped by a hash of their bytes: CapTP
 * repeats a few dozen labels (op:deliver, desc:export...) in every message,
 * and a hit skips building the name string and the registry lookup.
 */
const SYMBOL_SLOTS = 256;
const MAX_CACHED_SYMBOL = 32;
const symbolNames: (Uint8Array | undefined)[] = new Array(SYMBOL_SLOTS);
const symbolValues: symbol[] = new Array(SYMBOL_SLOTS);

/**
 * The registered symbol named by the UTF-8 in `bytes[from, to)`; undefined
 * when it is not UTF-8, SYMBOL_LIMIT when it is a new name past the limits.
 */
export function symbol(
  bytes: Uint8Array,
  from: number,
  to: number,
): symbol | undefined | typeof SYMBOL_LIMIT {
  const length = to - from;
  if (length > MAX_CACHED_SYMBOL) {
    const name = text(bytes, from, to);
    return name === undefined ? undefined : register(name, length);
  }
  // A few bytes instead of all: hashing every byte cost as much as the
  // compare. The mix keeps CapTP's op:* and desc:* labels in distinct slots.
  const slot = length < 2
    ? (length === 0 ? 0 : bytes[from])
    : (length + bytes[from + (length >> 1)] + bytes[to - 2] +
      bytes[to - 1] * 11) & (SYMBOL_SLOTS - 1);
  const cached = symbolNames[slot];
  if (cached !== undefined && cached.length === length) {
    let i = 0;
    while (i < length && cached[i] === bytes[from + i]) i++;
    if (i === length) return symbolValues[slot];
  }
  const name = text(bytes, from, to);
  if (name === undefined) return undefined;
  const value = register(name, length);
  if (value === SYMBOL_LIMIT) return value;
  symbolNames[slot] = bytes.slice(from, to);
  symbolValues[slot] = value;
  return value;
}

/** The big-endian float64 in `bytes[at, at + 8)`, or undefined for a NaN not spelled 7ff8000000000000. */
export function float64(bytes: Uint8Array, at: number): number | undefined {
  const view = scratch;
  for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[at + i];
  const value = view.getFloat64(0);
  if (value !== value) {
    if (bytes[at] !== 0x7f || bytes[at + 1] !== 0xf8) return undefined;
    for (let i = 2; i < 8; i++) if (bytes[at + i] !== 0) return undefined;
  }
  return value;
}

/**
 * The big-endian float32 in `bytes[at, at + 4)`, or undefined for a NaN not
 * spelled 7fc00000. float32 is outside the OCapN model but legal Syrup: it
 * is read, never written.
 */
export function float32(bytes: Uint8Array, at: number): number | undefined {
  for (let i = 0; i < 4; i++) scratchBytes[i] = bytes[at + i];
  const value = scratch.getFloat32(0);
  if (
    value !== value &&
    (bytes[at] !== 0x7f || bytes[at + 1] !== 0xc0 || bytes[at + 2] !== 0 ||
      bytes[at + 3] !== 0)
  ) {
    return undefined;
  }
  return value;
}

const scratchBytes = new Uint8Array(8);
const scratch = new DataView(scratchBytes.buffer);
