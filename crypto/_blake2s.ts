/**
 * BLAKE2s-256 (RFC 7693), unkeyed, one-shot, in plain JavaScript, with
 * HMAC (RFC 2104) and Noise's HKDF (rev. 34, section 4.3) over it. It
 * exists for speed, not portability: Noise hashes and HMACs inputs of a
 * block or two, and for those a call into node:crypto costs several times
 * the compression itself. crypto/native.ts uses it below SMALL_INPUT bytes;
 * it is checked against RFC 7693's vector, node:crypto and @noble
 * (tests/crypto/_blake2s_test.ts).
 */
import { H0 } from "./_sha256.ts";

// RFC 7693 section 2.6: BLAKE2s takes SHA-256's initial hash value as its IV.
const IV = H0;

// RFC 7693 section 2.7: the message word schedule of each of the 10 rounds.
const SIGMA = Uint8Array.from([
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
].flat());

const m = new Int32Array(16);

/**
 * RFC 7693 section 3.2, F: compresses the block in `m` into `h`. The working
 * vector lives in locals and the eight G calls of a round are written out:
 * V8 keeps them in registers, several times faster than an array.
 */
function compress(h: Int32Array, counter: number, last: boolean) {
  let v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
  let v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
  let v8 = IV[0], v9 = IV[1], v10 = IV[2], v11 = IV[3];
  let v12 = IV[4] ^ counter;
  let v13 = IV[5] ^ Math.floor(counter / 0x1_0000_0000);
  let v14 = last ? ~IV[6] : IV[6];
  let v15 = IV[7];
  for (let r = 0; r < 160; r += 16) {
    v0 = (v0 + v4 + m[SIGMA[r]]) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m[SIGMA[r + 1]]) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m[SIGMA[r + 2]]) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m[SIGMA[r + 3]]) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m[SIGMA[r + 4]]) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m[SIGMA[r + 5]]) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m[SIGMA[r + 6]]) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m[SIGMA[r + 7]]) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 7) | (v7 << 25);
    v0 = (v0 + v5 + m[SIGMA[r + 8]]) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m[SIGMA[r + 9]]) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m[SIGMA[r + 10]]) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m[SIGMA[r + 11]]) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m[SIGMA[r + 12]]) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m[SIGMA[r + 13]]) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m[SIGMA[r + 14]]) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m[SIGMA[r + 15]]) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 7) | (v4 << 25);
  }
  h[0] ^= v0 ^ v8;
  h[1] ^= v1 ^ v9;
  h[2] ^= v2 ^ v10;
  h[3] ^= v3 ^ v11;
  h[4] ^= v4 ^ v12;
  h[5] ^= v5 ^ v13;
  h[6] ^= v6 ^ v14;
  h[7] ^= v7 ^ v15;
}

const block = new Uint8Array(64);

/** The 16 little-endian words of `src[at, at + 64)`, into `m`. */
function blockWords(src: Uint8Array, at: number) {
  for (let i = 0, j = at; i < 16; i++, j += 4) {
    m[i] = src[j] | (src[j + 1] << 8) | (src[j + 2] << 16) | (src[j + 3] << 24);
  }
}

/** Loads `n` (at most 64) bytes of `parts` from logical offset `at` into `m`, zero-padded. */
function load(parts: readonly Uint8Array[], at: number, n: number) {
  let p = 0;
  let skip = at;
  while (p < parts.length && skip >= parts[p].length) {
    skip -= parts[p++].length;
  }
  for (let filled = 0; filled < n; p++, skip = 0) {
    const part = parts[p];
    const take = Math.min(part.length - skip, n - filled);
    block.set(
      skip === 0 && take === part.length
        ? part
        : part.subarray(skip, skip + take),
      filled,
    );
    filled += take;
  }
  block.fill(0, n);
  blockWords(block, 0);
}

const h = new Int32Array(8);

/** BLAKE2s-256 of the concatenation of `parts`, with no concatenated copy. */
export function blake2s(parts: readonly Uint8Array[]): Uint8Array {
  return blake2sInto(parts, new Uint8Array(32));
}

/** As blake2s(), writing the digest into the first 32 bytes of `out`. */
export function blake2sInto(
  parts: readonly Uint8Array[],
  out: Uint8Array,
): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += parts[i].length;
  h.set(IV);
  h[0] ^= 0x01010020; // digest length 32, no key, fanout and depth 1
  let at = 0;
  while (length - at > 64) {
    load(parts, at, 64);
    at += 64;
    compress(h, at, false);
  }
  load(parts, at, length - at);
  compress(h, length, true);
  for (let i = 0; i < 32; i++) out[i] = h[i >>> 2] >>> ((i & 3) << 3);
  // The state and the last block may hold key material (HMAC pads).
  m.fill(0);
  block.fill(0);
  return out;
}

/** RFC 2104's B for BLAKE2s, and the state's first word for a 32-byte digest. */
const BLOCK = 64;
const PARAM = 0x01010020;
/** HMAC pad states: the chaining value after the first (pad) block. */
const innerState = new Int32Array(8);
const outerState = new Int32Array(8);
const macState = new Int32Array(8);

/** Loads `src[at, end)` (at most 64 bytes) into `m`, zero-padded. */
function loadBytes(src: Uint8Array, at: number, end: number) {
  if (end - at === BLOCK) return blockWords(src, at);
  block.fill(0);
  block.set(src.subarray(at, end));
  blockWords(block, 0);
}

/** Compresses the HMAC pad block of `key` (at most 64 bytes) into `state`. */
function padState(
  state: Int32Array,
  key: Uint8Array,
  pad: number,
  last: boolean,
) {
  block.fill(pad);
  for (let i = 0; i < key.length; i++) block[i] ^= key[i];
  blockWords(block, 0);
  state.set(IV);
  state[0] ^= PARAM;
  compress(state, BLOCK, last);
}

/** Both pad states of `key`; a key longer than a block is hashed first. */
function keyStates(key: Uint8Array): void {
  const k = key.length > BLOCK ? blake2s([key]) : key;
  padState(innerState, k, 0x36, false);
  padState(outerState, k, 0x5c, false);
  if (k !== key) k.fill(0);
}

/**
 * HMAC under the key whose pad states are loaded (keyStates), of `data`
 * (not empty: the pad block would then be the last), into `out`. Two
 * compressions for data of up to a block, where a plain HMAC takes four.
 */
function macFromStates(data: Uint8Array, out: Uint8Array): Uint8Array {
  macState.set(innerState);
  const length = data.length;
  let at = 0;
  while (length - at > BLOCK) {
    loadBytes(data, at, at + BLOCK);
    at += BLOCK;
    compress(macState, BLOCK + at, false);
  }
  loadBytes(data, at, length);
  compress(macState, BLOCK + length, true);
  // The inner digest's bytes are the state's words, little-endian: the
  // outer hash's only message block is those eight words, then zeros.
  for (let i = 0; i < 8; i++) m[i] = macState[i];
  m.fill(0, 8);
  macState.set(outerState);
  compress(macState, BLOCK + 32, true);
  for (let i = 0; i < 32; i++) out[i] = macState[i >>> 2] >>> ((i & 3) << 3);
  return out;
}

function wipeStates(): void {
  innerState.fill(0);
  outerState.fill(0);
  macState.fill(0);
  m.fill(0);
  block.fill(0);
}

/** HMAC-BLAKE2s (RFC 2104) of `data` under `key`, into `out` (32 bytes). */
function hmacInto(key: Uint8Array, data: Uint8Array, out: Uint8Array) {
  if (data.length > 0) {
    keyStates(key);
    return macFromStates(data, out);
  }
  // H((K ^ ipad)): the pad block is the whole, and last, message.
  const k = key.length > BLOCK ? blake2s([key]) : key;
  padState(innerState, k, 0x36, true);
  padState(outerState, k, 0x5c, false);
  if (k !== key) k.fill(0);
  for (let i = 0; i < 8; i++) m[i] = innerState[i];
  m.fill(0, 8);
  macState.set(outerState);
  compress(macState, BLOCK + 32, true);
  for (let i = 0; i < 32; i++) out[i] = macState[i >>> 2] >>> ((i & 3) << 3);
  return out;
}

/** HMAC-BLAKE2s (RFC 2104) of `data` under `key`. */
export function hmacBlake2s(key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = hmacInto(key, data, new Uint8Array(32));
  wipeStates();
  return out;
}

/** HKDF scratch: the temporary key, then output(i - 1) || byte(i). */
const hkdfTemp = new Uint8Array(32);
const hkdfInfo = new Uint8Array(33);
const hkdfFirst = hkdfInfo.subarray(32);

/**
 * Noise's HKDF (rev. 34, section 4.3) with HMAC-BLAKE2s: `count` outputs
 * of 32 bytes from `chainingKey` and `ikm`. The temporary key's pad states
 * are compressed once for all its outputs.
 */
export function hkdfBlake2s(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  count: number,
): Uint8Array[] {
  hmacInto(chainingKey, ikm, hkdfTemp);
  keyStates(hkdfTemp);
  hkdfTemp.fill(0);
  const outs: Uint8Array[] = [];
  for (let i = 1; i <= count; i++) {
    hkdfInfo[32] = i;
    const out = macFromStates(
      i === 1 ? hkdfFirst : hkdfInfo,
      new Uint8Array(32),
    );
    outs.push(out);
    hkdfInfo.set(out);
  }
  hkdfInfo.fill(0);
  wipeStates();
  return outs;
}
