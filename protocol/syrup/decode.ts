/**
 * Strict Syrup decoder: canonical bytes to one SyrupValue.
 *
 * Syrup draft (ocapn/syrup), "Encoding" and "Canonicalization"; the table in
 * shared/ocapn-notes.md. The rules live in _reader.ts (containers, lengths,
 * canonical order) and _decode_scalars.ts (integers, floats, text,
 * symbols); this module is the public entry point.
 *
 * Rejections are SyntaxErrors whose message names the rule and the byte
 * offset ("Unsorted dictionary key at byte 12").
 */

import type { SyrupValue } from "./value.ts";
import { type DecodeOptions, Reader, TruncatedInput } from "./_reader.ts";

export {
  type DecodeOptions,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_INTEGER_DIGITS,
  DEFAULT_MAX_LENGTH,
} from "./_reader.ts";

/** One value read by {@link decodeAt} and the offset just past it. */
export interface DecodeResult {
  value: SyrupValue;
  end: number;
}

/** Whether `error` came from input that ended too early (more bytes might complete it). */
export function isTruncation(error: unknown): boolean {
  return error instanceof TruncatedInput;
}

/** Shared by every call without options; see _reader.ts on why reuse is safe. */
const defaultReader = new Reader();

function readerFor(bytes: Uint8Array, options?: DecodeOptions): Reader {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot decode ${typeof bytes}: expected Uint8Array`);
  }
  return options === undefined ? defaultReader : new Reader(options);
}

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
  const reader = readerFor(bytes, options);
  const value = reader.read(bytes, 0, bytes.length, 0);
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
  const reader = readerFor(bytes, options);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError(`Offset out of range "${offset}"`);
  }
  const value = reader.read(bytes, offset, bytes.length, 0);
  return { value, end: reader.pos };
}
