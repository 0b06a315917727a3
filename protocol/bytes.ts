/**
 * Byte helpers shared by every layer. One byte type is used throughout
 * (`Uint8Array`, STYLE.md "Bytes and crypto").
 */

/** The parts, one after another, in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
