/**
 * Boundary checks shared by the crypto backends: every key, nonce and
 * signature is checked for type and length before it reaches a primitive, so
 * a caller mistake surfaces as a TypeError or RangeError naming the argument
 * instead of an opaque failure deep inside OpenSSL or @noble.
 */

/** Throws unless `value` is a Uint8Array (of `length` bytes when given). */
export function checkBytes(
  name: string,
  value: unknown,
  length?: number,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Expected "${name}" to be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(
      `Expected "${name}" to be ${length} bytes, got "${value.length}"`,
    );
  }
  return value;
}

/** True when every byte is zero, in time independent of the contents. */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i];
  return acc === 0;
}

/** Rejects the all-zero X25519 output a low-order peer key produces. */
export function checkSharedSecret(shared: Uint8Array): Uint8Array {
  if (isAllZero(shared)) {
    throw new RangeError(
      "X25519 shared secret is all zero (low-order public key)",
    );
  }
  return shared;
}

/** The AEAD seal arguments; `output`, when given, must fit the sealed bytes exactly. */
export function checkSealArgs(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  output?: Uint8Array,
): void {
  checkAeadArgs(key, nonce, ad);
  checkBytes("plaintext", plaintext);
  if (output !== undefined) {
    checkBytes("output", output, plaintext.length + 16);
  }
}

/** The AEAD open arguments. */
export function checkOpenArgs(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): void {
  checkAeadArgs(key, nonce, ad);
  checkBytes("ciphertext", ciphertext);
}

function checkAeadArgs(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array) {
  checkBytes("key", key, 32);
  checkBytes("nonce", nonce, 12);
  checkBytes("ad", ad);
}

/**
 * The Ed25519 verify arguments. False when the signature cannot be one
 * (not 64 bytes): that verifies nothing rather than being a caller mistake.
 */
export function checkVerifyArgs(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  checkBytes("publicKey", publicKey, 32);
  checkBytes("message", message);
  checkBytes("signature", signature);
  return signature.length === 64;
}

/** The HKDF arguments: two byte arrays and an output count of 2 or 3. */
export function checkHkdfArgs(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  count: number,
): void {
  checkBytes("chainingKey", chainingKey);
  checkBytes("ikm", ikm);
  if (count !== 2 && count !== 3) {
    throw new RangeError(
      `Expected an HKDF output count of 2 or 3, got "${count}"`,
    );
  }
}
