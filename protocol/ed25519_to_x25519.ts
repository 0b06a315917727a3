/**
 * Ed25519 identity -> X25519 Noise static key (RFC 7748 section 4.1, the
 * birational map between edwards25519 and curve25519; RFC 8032 section
 * 5.1.5 for how a seed becomes a scalar). A peer's designator is its Ed25519
 * public key; converting it lets one key both name the peer and authenticate
 * its Noise handshake, with no second key to publish.
 */
import type { CryptoProvider } from "./crypto.ts";

const P = (1n << 255n) - 19n;

function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

/** u = (1 + y) / (1 - y) mod p, from the 32-byte Ed25519 public key. */
export function ed25519PublicToX25519(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError("Expected an Ed25519 public key of 32 bytes");
  }
  let y = 0n;
  for (let i = 31; i >= 0; i--) {
    // The top bit is the sign of x, which the Montgomery u ignores.
    y = (y << 8n) | BigInt(i === 31 ? publicKey[i] & 0x7f : publicKey[i]);
  }
  if (y >= P) {
    throw new RangeError("Ed25519 public key has a non-canonical y");
  }
  const denominator = (1n - y + P) % P;
  if (denominator === 0n) {
    // y = 1 is the identity point; it has no Montgomery image.
    throw new RangeError("Ed25519 public key is the identity point");
  }
  let u = ((1n + y) * modPow(denominator, P - 2n)) % P;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
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
