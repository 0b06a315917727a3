/**
 * RFC 4648 section 6 base32, lowercase and unpadded: the spelling of a peer
 * designator (an Ed25519 public key) in OCapN locators for key-named
 * netlayers (websocket, unix-domain-socket, and ours). Decoding is strict so
 * that one key has exactly one designator.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

export function encodeBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Throws SyntaxError (with the character offset) on anything but lowercase
 * alphabet characters, on an impossible length, or on non-zero padding bits.
 */
export function decodeBase32(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new TypeError("Expected base32 text to be a string");
  }
  const rem = text.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) {
    throw new SyntaxError(`Invalid base32 length "${text.length}"`);
  }
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let pos = 0;
  for (let i = 0; i < text.length; i++) {
    const value = VALUES.get(text[i]);
    if (value === undefined) {
      throw new SyntaxError(
        `Invalid base32 character "${text[i]}" at offset ${i}`,
      );
    }
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) {
    throw new SyntaxError(
      `Non-zero base32 padding bits at offset ${text.length - 1}`,
    );
  }
  return out;
}
