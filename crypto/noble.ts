/**
 * The portable CryptoProvider (protocol/crypto.ts) on @noble: pure
 * JavaScript, audited, and the reference the native backend is checked
 * against (tests/crypto/). It runs wherever an ES module runs, so this file
 * imports nothing from Deno or node:.
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { blake2b, blake2s } from "@noble/hashes/blake2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { randomBytes as nobleRandom } from "@noble/hashes/utils.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  type CryptoProvider,
  type HashName,
  hkdfFromHmac,
  type KeyPair,
} from "../protocol/crypto.ts";
import {
  checkBytes,
  checkHkdfArgs,
  checkOpenArgs,
  checkSealArgs,
  checkSharedSecret,
  checkVerifyArgs,
} from "./_bytes.ts";

const HASHES = { sha256, sha512, blake2s, blake2b } as const;

function hashFn(name: HashName) {
  const fn = HASHES[name];
  if (fn === undefined) throw new TypeError(`Unknown hash "${name}"`);
  return fn;
}

function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Invalid random length "${length}"`);
  }
  return nobleRandom(length);
}

function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return x25519.getPublicKey(secretKey);
}

function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return ed25519.getPublicKey(secretKey);
}

function keyPair(publicKey: (secret: Uint8Array) => Uint8Array): KeyPair {
  const secretKey = randomBytes(32);
  return { secretKey, publicKey: publicKey(secretKey) };
}

export const nobleCrypto: CryptoProvider = {
  name: "noble",
  randomBytes,
  hash(name: HashName, data: Uint8Array): Uint8Array {
    checkBytes("data", data);
    return hashFn(name)(data);
  },
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkBytes("key", key);
    checkBytes("data", data);
    return hmac(hashFn(name), key, data);
  },
  hkdf(name, chainingKey, ikm, count): Uint8Array[] {
    checkHkdfArgs(chainingKey, ikm, count);
    const fn = hashFn(name);
    return hkdfFromHmac(
      (_, k, d) => hmac(fn, k, d),
      name,
      chainingKey,
      ikm,
      count,
    );
  },
  x25519: {
    generateKeyPair: () => keyPair(x25519PublicKey),
    publicKey: x25519PublicKey,
    sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      checkBytes("secretKey", secretKey, 32);
      checkBytes("publicKey", publicKey, 32);
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(secretKey, publicKey);
      } catch {
        // @noble refuses the all-zero result itself; report it the same way
        // the native backend does.
        shared = new Uint8Array(32);
      }
      return checkSharedSecret(shared);
    },
  },
  ed25519: {
    generateKeyPair: () => keyPair(ed25519PublicKey),
    publicKey: ed25519PublicKey,
    sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
      checkBytes("secretKey", secretKey, 32);
      checkBytes("message", message);
      return ed25519.sign(message, secretKey);
    },
    verify(
      publicKey: Uint8Array,
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean {
      if (!checkVerifyArgs(publicKey, message, signature)) return false;
      try {
        return ed25519.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    },
  },
  aead: {
    seal(key, nonce, plaintext, ad, output): Uint8Array {
      checkSealArgs(key, nonce, plaintext, ad, output);
      return chacha20poly1305(key, nonce, ad).encrypt(plaintext, output);
    },
    open(key, nonce, ciphertext, ad): Uint8Array | null {
      checkOpenArgs(key, nonce, ciphertext, ad);
      if (ciphertext.length < 16) return null;
      try {
        return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  },
};
