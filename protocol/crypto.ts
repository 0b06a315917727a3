/**
 * The one crypto interface. protocol/ (CapTP session keys, handoff
 * certificates) and netlayers/ (Noise, UDP) take a `CryptoProvider` and never
 * import a backend. Two backends implement it: crypto/native.ts (node:crypto,
 * the default) and crypto/noble.ts (@noble, portable, the reference). Both
 * pass the same vectors (tests/crypto/).
 *
 * Everything is synchronous: both backends are, and an await per primitive
 * costs more than the primitive itself.
 */
export interface KeyPair {
  /** 32-byte secret (an Ed25519 seed, or an X25519 scalar). */
  readonly secretKey: Uint8Array;
  /** 32-byte public key. */
  readonly publicKey: Uint8Array;
}

/**
 * "sha512" exists for the Ed25519 seed -> X25519 secret conversion
 * (protocol/ed25519_to_x25519.ts); Noise here uses the other three.
 */
export type HashName = "sha256" | "sha512" | "blake2s" | "blake2b";

export interface CryptoProvider {
  readonly name: string;
  randomBytes(length: number): Uint8Array;
  hash(name: HashName, data: Uint8Array): Uint8Array;
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * Optional (added for Noise's hot path): the HKDF of Noise rev. 34,
   * section 4.3, which is RFC 5869 with `chainingKey` as the salt and an
   * empty info, cut into `count` outputs of the hash's length. A caller
   * without it computes the same from `hmac`; a backend with it may share
   * work between the outputs (one HMAC key for all of them).
   */
  hkdf?(
    name: HashName,
    chainingKey: Uint8Array,
    ikm: Uint8Array,
    count: 2 | 3,
  ): Uint8Array[];
  readonly x25519: {
    generateKeyPair(): KeyPair;
    publicKey(secretKey: Uint8Array): Uint8Array;
    /** Throws on an all-zero result (a low-order peer key). */
    sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  };
  readonly ed25519: {
    generateKeyPair(): KeyPair;
    publicKey(secretKey: Uint8Array): Uint8Array;
    sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
    verify(
      publicKey: Uint8Array,
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean;
  };
  /** ChaCha20-Poly1305 (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag. */
  readonly aead: {
    /**
     * Ciphertext then tag. With `output` (exactly plaintext.length + 16
     * bytes, not overlapping `plaintext`) the result is written there and
     * `output` is returned, so a caller framing many records seals them
     * straight into one buffer instead of copying each.
     */
    seal(
      key: Uint8Array,
      nonce: Uint8Array,
      plaintext: Uint8Array,
      ad: Uint8Array,
      output?: Uint8Array,
    ): Uint8Array;
    /** Returns null when the tag does not verify. */
    open(
      key: Uint8Array,
      nonce: Uint8Array,
      ciphertext: Uint8Array,
      ad: Uint8Array,
    ): Uint8Array | null;
  };
}

/**
 * Noise's HKDF (rev. 34, section 4.3) from an HMAC: RFC 5869 with the
 * chaining key as salt and an empty info, cut into `count` outputs. What
 * `CryptoProvider.hkdf` computes; callers use it when a provider lacks one.
 */
export function hkdfFromHmac(
  hmac: CryptoProvider["hmac"],
  name: HashName,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  count: number,
): Uint8Array[] {
  const temp = hmac(name, chainingKey, ikm);
  const outs: Uint8Array[] = [];
  let info = Uint8Array.of(1);
  for (let i = 1; i <= count; i++) {
    const out = hmac(name, temp, info);
    outs.push(out);
    info.fill(0);
    info = new Uint8Array(out.length + 1);
    info.set(out);
    info[out.length] = i + 1;
  }
  info.fill(0);
  temp.fill(0);
  return outs;
}
