/**
 * SHA-256 (FIPS 180-4), one-shot, in plain JavaScript, for short inputs.
 * Like crypto/_blake2s.ts it exists for speed: CapTP hashes keys and
 * session material of a block or two (protocol/captp/keys.ts), a dozen
 * times per session, and for those node:crypto's Hash object costs about
 * twice the compression. crypto/native.ts uses it up to SMALL_INPUT bytes;
 * it is checked against FIPS 180-4's examples and node:crypto on every
 * length across several blocks (tests/crypto/_sha256_test.ts).
 */

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
// the cube roots of the first 64 primes.
const K = Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

// Section 5.3.3: the initial hash value.
export const H0 = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

const w = new Int32Array(64);
const state = new Int32Array(8);
const tail = new Uint8Array(64);

/** Section 6.2.2: one 64-byte block of `src` at `at` into the state. */
function compress(src: Uint8Array, at: number): void {
  for (let i = 0, j = at; i < 16; i++, j += 4) {
    w[i] = (src[j] << 24) | (src[j + 1] << 16) | (src[j + 2] << 8) |
      src[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^
      (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
      ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
      ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/** SHA-256 of `data` (meant for short inputs: the length is kept in a number). */
export function sha256(data: Uint8Array): Uint8Array {
  const length = data.length;
  state.set(H0);
  let at = 0;
  for (; length - at >= 64; at += 64) compress(data, at);
  // Section 5.1.1: a one bit, zeros, then the length in bits (64, big-endian).
  tail.fill(0);
  tail.set(data.subarray(at));
  tail[length - at] = 0x80;
  if (length - at >= 56) {
    compress(tail, 0);
    tail.fill(0);
  }
  const high = Math.floor(length / 0x2000_0000); // length * 8 / 2^32
  const low = (length << 3) >>> 0;
  tail[56] = high >>> 24;
  tail[57] = high >>> 16;
  tail[58] = high >>> 8;
  tail[59] = high;
  tail[60] = low >>> 24;
  tail[61] = low >>> 16;
  tail[62] = low >>> 8;
  tail[63] = low;
  compress(tail, 0);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = state[i >>> 2] >>> (24 - ((i & 3) << 3));
  }
  // The input may be secret (an HMAC pad, a key being converted).
  w.fill(0);
  state.fill(0);
  tail.fill(0);
  return out;
}
