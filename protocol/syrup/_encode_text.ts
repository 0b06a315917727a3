/**
 * UTF-8 and decimal writers for the Syrup encoder.
 *
 * Syrup draft (ocapn/syrup), "Encoding": strings and symbols are UTF-8
 * behind a decimal byte length, and integers are decimal digits. These are
 * plain functions that write into a buffer the caller has made room in and
 * return the new end, so they share no state with encode.ts.
 */

import { EncodeFailure, quote } from "./_encode_failure.ts";

const utf8 = new TextEncoder();

/** Strings up to this many UTF-16 units are sized and written by hand. */
export const SHORT_STRING = 64;

/** Writes the non-negative safe integer `n` in decimal at `at`; returns the end. */
export function putDecimal(buf: Uint8Array, at: number, n: number): number {
  if (n < 10) {
    buf[at] = 48 + n;
    return at + 1;
  }
  const length = decimalLength(n);
  let i = at + length;
  while (n >= 10) {
    const q = Math.floor(n / 10);
    buf[--i] = 48 + (n - q * 10);
    n = q;
  }
  buf[--i] = 48 + n;
  return at + length;
}

export function decimalLength(n: number): number {
  let length = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    length++;
  }
  return length;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function loneSurrogate(value: string): EncodeFailure {
  return new EncodeFailure(
    `Cannot encode a string with a lone surrogate ${quote(value)}`,
  );
}

/** UTF-8 byte length of a short string (hand-sized: faster than encodeInto, and it sees lone surrogates). */
export function utf8Size(value: string): number {
  const n = value.length;
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
      throw loneSurrogate(value);
    }
  }
  return size;
}

/** Writes a short string already checked by utf8Size as UTF-8 at `at`; returns the end. */
export function putUtf8(buf: Uint8Array, at: number, value: string): number {
  const n = value.length;
  let pos = at;
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
  return pos;
}

/** Room a long string needs: the widest length prefix, the marker and three bytes a unit. */
export function longStringRoom(value: string): number {
  if (!value.isWellFormed()) throw loneSurrogate(value);
  return decimalLength(value.length * 3) + 1 + value.length * 3;
}

/**
 * Writes `<len>"` and a long string at `at`, in room from longStringRoom;
 * returns the end. Encodes straight into the buffer after room for the
 * widest prefix, then closes any gap.
 */
export function putLongString(
  buf: Uint8Array,
  at: number,
  value: string,
): number {
  const maxBytes = value.length * 3;
  const reserved = decimalLength(maxBytes) + 1;
  const { written } = utf8.encodeInto(
    value,
    buf.subarray(at + reserved, at + reserved + maxBytes),
  );
  const prefix = decimalLength(written) + 1;
  if (prefix < reserved) {
    buf.copyWithin(at + prefix, at + reserved, at + reserved + written);
  }
  buf[putDecimal(buf, at, written)] = 0x22;
  return at + prefix + written;
}

/** The encoding of a registered symbol, `<len>'name`; symbols repeat, so callers cache it. */
export function symbolBytes(value: symbol): Uint8Array {
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
  const encoded = new Uint8Array(prefix.length + body.length);
  encoded.set(prefix);
  encoded.set(body, prefix.length);
  return encoded;
}
