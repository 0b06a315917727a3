/**
 * RFC 3986 percent-encoding (section 2.1) over bytes, for locator URIs
 * (Locators.md: "Any value within any string should be escaped, if needed,
 * according to RFC3986").
 *
 * Why not encodeURIComponent: it works on UTF-16 text, so it can neither
 * carry a swiss number that is not UTF-8 nor report a bad escape in our
 * words. We emit the canonical form (everything but unreserved characters
 * escaped, uppercase hex) and accept any escape case on input.
 */

const HEX = "0123456789ABCDEF";

// For each byte, the text it is emitted as: itself when unreserved.
const ENCODED: string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${HEX[b >> 4]}${HEX[b & 15]}`;
});

/** Escape every byte that is not an RFC 3986 unreserved character. */
export function percentEncode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += ENCODED[bytes[i]];
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Unescape `raw`, whose literal characters must match `chars` (the RFC 3986
 * class of the URI part it came from). SyntaxError names the field and the
 * index; for a `secret` field (a swiss number) the text is never quoted.
 */
export function percentDecode(
  raw: string,
  what: { field: string; chars: RegExp; secret?: boolean },
): Uint8Array {
  const { field, chars, secret = false } = what;
  const shown = (text: string) => (secret ? "" : ` ${JSON.stringify(text)}`);
  if (!chars.test(raw)) {
    for (let i = 0; i < raw.length; i++) {
      if (!chars.test(raw[i])) {
        throw new SyntaxError(
          `Invalid character${shown(raw[i])} in ${field} at index ${i}`,
        );
      }
    }
  }
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code !== 0x25 /* % */) {
      out[n++] = code;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      throw new SyntaxError(
        `Bad percent escape${
          shown(raw.slice(i, i + 3))
        } in ${field} at index ${i}`,
      );
    }
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.slice(0, n);
}
