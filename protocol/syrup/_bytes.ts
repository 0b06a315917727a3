/**
 * Byte-span comparison shared by the Syrup encoder and decoder.
 *
 * Syrup draft, "Canonicalization": dictionary keys and set items are ordered
 * by their encoded bytes, compared bytewise, a proper prefix first. Both
 * sides compare spans of one buffer so neither has to copy keys out.
 */

/** Orders `bytes[aStart, aEnd)` against `bytes[bStart, bEnd)`: negative, zero or positive. */
export function compareSpans(
  bytes: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const common = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < common; i++) {
    const diff = bytes[aStart + i] - bytes[bStart + i];
    if (diff !== 0) return diff;
  }
  return aLength - bLength;
}
