/**
 * ChaCha20-Poly1305 (RFC 8439, section 2.8) in plain JavaScript, for short
 * messages. It exists for speed: a Noise handshake seals and opens a
 * dozen payloads of at most a few dozen bytes (keys, empty payloads), and
 * for those node:crypto's cipher object (a stream, built per call) costs
 * several times the two ChaCha20 blocks and handful of Poly1305 blocks
 * that are the work. crypto/native.ts uses it up to SMALL_AEAD bytes of
 * plaintext; it is checked against RFC 8439's vectors and node:crypto on
 * random inputs of every small length (tests/crypto/_chacha20poly1305_test.ts).
 *
 * Poly1305 runs on ten 13-bit limbs held in doubles: every product and
 * sum stays far below 2^53, so the arithmetic is exact without BigInt.
 */

/** Plaintexts up to this many bytes take the JavaScript path. */
export const SMALL_AEAD = 128;

const SIGMA = Int32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);
const input = new Int32Array(16);
const keystream = new Uint8Array(64);

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** Section 2.3: the 64-byte block for `counter`, into `keystream`. */
function chachaBlock(key: Uint8Array, counter: number, nonce: Uint8Array) {
  input.set(SIGMA);
  for (let i = 0; i < 8; i++) input[4 + i] = word(key, 4 * i);
  input[12] = counter;
  for (let i = 0; i < 3; i++) input[13 + i] = word(nonce, 4 * i);
  let x0 = input[0], x1 = input[1], x2 = input[2], x3 = input[3];
  let x4 = input[4], x5 = input[5], x6 = input[6], x7 = input[7];
  let x8 = input[8], x9 = input[9], x10 = input[10], x11 = input[11];
  let x12 = input[12], x13 = input[13], x14 = input[14], x15 = input[15];
  for (let round = 0; round < 10; round++) {
    // Columns.
    x0 = (x0 + x4) | 0, x12 = rotl(x12 ^ x0, 16);
    x8 = (x8 + x12) | 0, x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0, x12 = rotl(x12 ^ x0, 8);
    x8 = (x8 + x12) | 0, x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0, x13 = rotl(x13 ^ x1, 16);
    x9 = (x9 + x13) | 0, x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0, x13 = rotl(x13 ^ x1, 8);
    x9 = (x9 + x13) | 0, x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0, x14 = rotl(x14 ^ x2, 16);
    x10 = (x10 + x14) | 0, x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0, x14 = rotl(x14 ^ x2, 8);
    x10 = (x10 + x14) | 0, x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0, x15 = rotl(x15 ^ x3, 16);
    x11 = (x11 + x15) | 0, x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0, x15 = rotl(x15 ^ x3, 8);
    x11 = (x11 + x15) | 0, x7 = rotl(x7 ^ x11, 7);
    // Diagonals.
    x0 = (x0 + x5) | 0, x15 = rotl(x15 ^ x0, 16);
    x10 = (x10 + x15) | 0, x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0, x15 = rotl(x15 ^ x0, 8);
    x10 = (x10 + x15) | 0, x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0, x12 = rotl(x12 ^ x1, 16);
    x11 = (x11 + x12) | 0, x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0, x12 = rotl(x12 ^ x1, 8);
    x11 = (x11 + x12) | 0, x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0, x13 = rotl(x13 ^ x2, 16);
    x8 = (x8 + x13) | 0, x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0, x13 = rotl(x13 ^ x2, 8);
    x8 = (x8 + x13) | 0, x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0, x14 = rotl(x14 ^ x3, 16);
    x9 = (x9 + x14) | 0, x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0, x14 = rotl(x14 ^ x3, 8);
    x9 = (x9 + x14) | 0, x4 = rotl(x4 ^ x9, 7);
  }
  x0 = (x0 + input[0]) | 0, x1 = (x1 + input[1]) | 0;
  x2 = (x2 + input[2]) | 0, x3 = (x3 + input[3]) | 0;
  x4 = (x4 + input[4]) | 0, x5 = (x5 + input[5]) | 0;
  x6 = (x6 + input[6]) | 0, x7 = (x7 + input[7]) | 0;
  x8 = (x8 + input[8]) | 0, x9 = (x9 + input[9]) | 0;
  x10 = (x10 + input[10]) | 0, x11 = (x11 + input[11]) | 0;
  x12 = (x12 + input[12]) | 0, x13 = (x13 + input[13]) | 0;
  x14 = (x14 + input[14]) | 0, x15 = (x15 + input[15]) | 0;
  put(0, x0), put(1, x1), put(2, x2), put(3, x3);
  put(4, x4), put(5, x5), put(6, x6), put(7, x7);
  put(8, x8), put(9, x9), put(10, x10), put(11, x11);
  put(12, x12), put(13, x13), put(14, x14), put(15, x15);
}

/** Word `i` of the key stream, little-endian. */
function put(i: number, v: number): void {
  keystream[4 * i] = v;
  keystream[4 * i + 1] = v >>> 8;
  keystream[4 * i + 2] = v >>> 16;
  keystream[4 * i + 3] = v >>> 24;
}

function word(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24);
}

/** Section 2.4: `length` bytes of `src` XOR the key stream from block 1 on, into `dst`. */
function chachaXor(
  key: Uint8Array,
  nonce: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  length: number,
): void {
  for (let at = 0, counter = 1; at < length; at += 64, counter++) {
    chachaBlock(key, counter, nonce);
    const n = Math.min(64, length - at);
    for (let i = 0; i < n; i++) dst[at + i] = src[at + i] ^ keystream[i];
  }
}

// Poly1305 (section 2.5) on ten 13-bit limbs, least significant first.
const LIMBS = 10;
const r = new Float64Array(LIMBS);
const h = new Float64Array(LIMBS);
const product = new Float64Array(LIMBS);
const g = new Int32Array(LIMBS);
/** 16 bytes, then room for the 2^128 bit and the limb reads past it. */
const wide = new Uint8Array(19);

/** The limbs of the 130-bit little-endian number in `wide`, into `out`. */
function toLimbs(out: Float64Array): void {
  for (let i = 0; i < LIMBS; i++) {
    const bit = 13 * i;
    const at = bit >>> 3;
    const v = wide[at] | (wide[at + 1] << 8) | (wide[at + 2] << 16);
    out[i] = (v >>> (bit & 7)) & 0x1fff;
  }
}

/** r from the one-time key's first half, clamped; h zeroed. */
function polyInit(otk: Uint8Array): void {
  wide.fill(0);
  for (let i = 0; i < 16; i++) wide[i] = otk[i];
  wide[3] &= 15;
  wide[7] &= 15;
  wide[11] &= 15;
  wide[15] &= 15;
  wide[4] &= 252;
  wide[8] &= 252;
  wide[12] &= 252;
  toLimbs(r);
  h.fill(0);
}

/** h = (h + block + 2^128) * r mod 2^130 - 5, for one full 16-byte block. */
function polyBlock(src: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) wide[i] = src[at + i];
  wide[16] = 1;
  wide[17] = wide[18] = 0;
  toLimbs(product);
  for (let i = 0; i < LIMBS; i++) h[i] += product[i];
  // Limb k of the product; terms past 2^130 wrap around times 5. Each
  // term is below 2^28 and a limb sums ten of them, times at most 5: exact.
  for (let k = 0; k < LIMBS; k++) {
    let sum = 0;
    for (let i = 0; i <= k; i++) sum += h[i] * r[k - i];
    for (let i = k + 1; i < LIMBS; i++) sum += 5 * h[i] * r[k + LIMBS - i];
    product[k] = sum;
  }
  let carry = 0;
  for (let k = 0; k < LIMBS; k++) {
    const v = product[k] + carry;
    carry = Math.floor(v / 8192);
    h[k] = v - carry * 8192;
  }
  // 2^130 = 5 (mod p): what carried out of the top comes back in at the bottom.
  h[0] += 5 * carry;
  carry = Math.floor(h[0] / 8192);
  h[0] -= carry * 8192;
  h[1] += carry;
}

/** h mod p, plus s (the one-time key's second half), mod 2^128, into `tag`. */
function polyFinish(otk: Uint8Array, tag: Uint8Array, to: number): void {
  // Carry fully so every limb is below 2^13 and h below 2^130 + small.
  for (let pass = 0; pass < 2; pass++) {
    let carry = 0;
    for (let k = 0; k < LIMBS; k++) {
      const v = h[k] + carry;
      carry = Math.floor(v / 8192);
      h[k] = v - carry * 8192;
    }
    h[0] += 5 * carry;
  }
  // g = h + 5 - 2^130: if it does not go negative, h >= p and g is h mod p.
  let carry = 5;
  for (let k = 0; k < LIMBS; k++) {
    const v = h[k] + carry;
    carry = v >>> 13;
    g[k] = v & 0x1fff;
  }
  const useG = -carry | 0; // all ones when h + 5 reached 2^130
  for (let k = 0; k < LIMBS; k++) {
    h[k] = (g[k] & useG) | (h[k] & ~useG);
  }
  // The low 128 bits, little-endian, plus s.
  let acc = 0;
  let bits = 0;
  let at = 0;
  let sum = 0;
  for (let k = 0; k < LIMBS && at < 16; k++) {
    acc |= h[k] << bits;
    bits += 13;
    while (bits >= 8 && at < 16) {
      sum += (acc & 0xff) + otk[16 + at];
      tag[to + at++] = sum;
      sum >>>= 8;
      acc >>>= 8;
      bits -= 8;
    }
  }
  h.fill(0);
  r.fill(0);
  g.fill(0);
  product.fill(0);
}

const zeros = new Uint8Array(16);
const lengths = new Uint8Array(16);
const otk = new Uint8Array(32);

/**
 * Section 2.8's MAC input, block by block: ad, pad, the first `length`
 * bytes of `ciphertext`, pad, lengths; the tag goes to `tag` at `at`.
 */
function tagFor(
  ad: Uint8Array,
  ciphertext: Uint8Array,
  length: number,
  tag: Uint8Array,
  at: number,
): void {
  polyInit(otk);
  polyPadded(ad, ad.length);
  polyPadded(ciphertext, length);
  lengths.fill(0);
  littleEndian64(lengths, 0, ad.length);
  littleEndian64(lengths, 8, length);
  polyBlock(lengths, 0);
  polyFinish(otk, tag, at);
}

function polyPadded(data: Uint8Array, length: number): void {
  const whole = length & ~15;
  for (let at = 0; at < whole; at += 16) polyBlock(data, at);
  if (whole < length) {
    zeros.fill(0);
    for (let i = whole; i < length; i++) zeros[i - whole] = data[i];
    polyBlock(zeros, 0);
    zeros.fill(0);
  }
}

function littleEndian64(out: Uint8Array, at: number, n: number): void {
  for (let i = 0; i < 6; i++) out[at + i] = Math.floor(n / 2 ** (8 * i));
}

/** The one-time Poly1305 key: the first half of ChaCha20 block 0. */
function oneTimeKey(key: Uint8Array, nonce: Uint8Array): void {
  chachaBlock(key, 0, nonce);
  for (let i = 0; i < 32; i++) otk[i] = keystream[i];
}

function wipe(): void {
  keystream.fill(0);
  otk.fill(0);
  input.fill(0);
  wide.fill(0);
}

const expected = new Uint8Array(16);

/** Ciphertext then tag, into `out` (plaintext.length + 16 bytes). */
export function seal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  out: Uint8Array,
): Uint8Array {
  const length = plaintext.length;
  oneTimeKey(key, nonce);
  chachaXor(key, nonce, plaintext, out, length);
  tagFor(ad, out, length, out, length);
  wipe();
  return out;
}

/** The plaintext, or null when the tag does not verify. */
export function open(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  const length = sealed.length - 16;
  oneTimeKey(key, nonce);
  tagFor(ad, sealed, length, expected, 0);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= expected[i] ^ sealed[length + i];
  expected.fill(0);
  if (diff !== 0) {
    wipe();
    return null;
  }
  const plaintext = new Uint8Array(length);
  chachaXor(key, nonce, sealed, plaintext, length);
  wipe();
  return plaintext;
}
