/**
 * Ed25519 identity -> X25519 Noise static key (RFC 7748 section 4.1, the
 * birational map between edwards25519 and curve25519; RFC 8032 section
 * 5.1.5 for how a seed becomes a scalar). A peer's designator is its Ed25519
 * public key; converting it lets one key both name the peer and authenticate
 * its Noise handshake, with no second key to publish.
 */
import type { CryptoProvider } from "./crypto.ts";

const P = (1n << 255n) - 19n;

/**
 * a^-1 mod p by the extended Euclidean algorithm: about a tenth of the
 * bigint work of Fermat's a^(p-2), and a handshake converts a key or two.
 * Not constant-time, which is fine: only public keys come here.
 */
function invert(a: bigint): bigint {
  let [r0, r1] = [P, a];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return t0 < 0n ? t0 + P : t0;
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * 32 little-endian bytes as a bigint, the last byte masked by `topMask`.
 * Through one hex string: a bigint shift per byte costs several times more.
 */
function fromLittleEndian(bytes: Uint8Array, topMask: number): bigint {
  let hex = HEX[bytes[31] & topMask];
  for (let i = 30; i >= 0; i--) hex += HEX[bytes[i]];
  return BigInt("0x" + hex);
}

function toLittleEndian(value: bigint): Uint8Array {
  const hex = value.toString(16).padStart(64, "0");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
  }
  return out;
}

/** u = (1 + y) / (1 - y) mod p, from the 32-byte Ed25519 public key. */
export function ed25519PublicToX25519(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError("Expected an Ed25519 public key of 32 bytes");
  }
  // The top bit is the sign of x, which the Montgomery u ignores.
  const y = fromLittleEndian(publicKey, 0x7f);
  if (y >= P) {
    throw new RangeError("Ed25519 public key has a non-canonical y");
  }
  const denominator = (1n - y + P) % P;
  if (denominator === 0n) {
    // y = 1 is the identity point; it has no Montgomery image.
    throw new RangeError("Ed25519 public key is the identity point");
  }
  return toLittleEndian(((1n + y) * invert(denominator)) % P);
}

/**
 * Whether `x25519` is exactly the key ed25519PublicToX25519(`ed25519`)
 * returns (false wherever that throws), checked as u * (1 - y) = 1 + y so
 * that no inversion is needed: a responder checks every peer it meets.
 */
export function ed25519PublicMatchesX25519(
  ed25519: Uint8Array,
  x25519: Uint8Array,
): boolean {
  if (
    !(ed25519 instanceof Uint8Array) || ed25519.length !== 32 ||
    !(x25519 instanceof Uint8Array) || x25519.length !== 32
  ) return false;
  const y = fromLittleEndian(ed25519, 0x7f);
  const u = fromLittleEndian(x25519, 0xff);
  // u and y canonical; y = 1 (the identity) fails the equation itself.
  if (y >= P || u >= P) return false;
  return (u * (1n - y + P)) % P === (1n + y) % P;
}

/** sha512(seed)[0..32], clamped: the scalar Ed25519 itself signs with. */
export function ed25519SeedToX25519(
  crypto: CryptoProvider,
  seed: Uint8Array,
): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError("Expected an Ed25519 seed of 32 bytes");
  }
  const digest = crypto.hash("sha512", seed);
  const scalar = digest.slice(0, 32);
  digest.fill(0);
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  return scalar;
}
