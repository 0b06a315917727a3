/**
 * The default CryptoProvider (protocol/crypto.ts), on node:crypto as Deno
 * provides it: native X25519, Ed25519, ChaCha20-Poly1305 (RFC 8439), SHA-2
 * and BLAKE2. It exists because the handshake and transport hot paths are
 * several times faster here than in pure JavaScript.
 *
 * Raw 32-byte keys become KeyObjects through fixed DER prefixes (PKCS#8 for
 * secrets, SPKI for public keys). Importing costs as much as a third of a
 * Diffie-Hellman (an Ed25519 secret import derives its public key), and a
 * static key is used by every session, so each KeyObject is kept in a
 * WeakMap keyed by the caller's Uint8Array (crypto/_key_cache.ts): it lives
 * exactly as long as that array, and a changed (e.g. zeroed) array is never
 * served a stale key. Key pairs made here start out cached.
 *
 * BLAKE2s, the hash of OCapN's Noise handshakes, and SHA-256, CapTP's, are
 * computed in JavaScript (crypto/_blake2s.ts, crypto/_sha256.ts) for inputs
 * up to SMALL_INPUT bytes: Noise and CapTP hash a block or two at a time,
 * and for those one call into node:crypto costs more than the compression
 * itself. HMAC is RFC 2104 over plain hashes, which is also cheaper than
 * node:crypto's createHmac at these sizes. For the same reason short AEAD
 * messages (Noise's handshake payloads) are sealed and opened in
 * JavaScript (crypto/_chacha20poly1305.ts), longer ones by node:crypto.
 */
import * as nc from "node:crypto";
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
import { KeyCache } from "./_key_cache.ts";
import { sha256 } from "./_sha256.ts";
import * as jsAead from "./_chacha20poly1305.ts";
import { SMALL_AEAD } from "./_chacha20poly1305.ts";
import {
  blake2s,
  hkdfBlake2s,
  hmacBlake2s as jsHmacBlake2s,
} from "./_blake2s.ts";

// RFC 8410 encodings: PKCS#8 PrivateKeyInfo and SPKI for OIDs 1.3.101.110
// (X25519) and 1.3.101.112 (Ed25519), each followed by the raw 32 bytes.
const X25519_PKCS8 = hex("302e020100300506032b656e04220420");
const ED25519_PKCS8 = hex("302e020100300506032b657004220420");
const X25519_SPKI = hex("302a300506032b656e032100");
const ED25519_SPKI = hex("302a300506032b6570032100");
const SPKI_LENGTH = 44;

const NODE_HASH: Record<HashName, string> = {
  sha256: "sha256",
  sha512: "sha512",
  blake2s: "blake2s256",
  blake2b: "blake2b512",
};

/** RFC 2104's B, the block length in bytes of each hash. */
const BLOCK_LENGTH: Record<HashName, number> = {
  sha256: 64,
  sha512: 128,
  blake2s: 64,
  blake2b: 128,
};

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** A plain Uint8Array view of a Buffer, so results compare equal to data. */
function plain(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function der(prefix: Uint8Array, raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + 32);
  out.set(prefix);
  out.set(raw, prefix.length);
  return out;
}

function privateKey(prefix: Uint8Array, secret: Uint8Array): nc.KeyObject {
  const bytes = der(prefix, secret);
  try {
    return nc.createPrivateKey({
      key: bytes as unknown as Buffer,
      format: "der",
      type: "pkcs8",
    });
  } finally {
    bytes.fill(0);
  }
}

function publicKeyObject(prefix: Uint8Array, pub: Uint8Array): nc.KeyObject {
  return nc.createPublicKey({
    key: der(prefix, pub) as unknown as Buffer,
    format: "der",
    type: "spki",
  });
}

const x25519Secrets = new KeyCache((s) => privateKey(X25519_PKCS8, s));
const ed25519Secrets = new KeyCache((s) => privateKey(ED25519_PKCS8, s));
const x25519Publics = new KeyCache((p) => publicKeyObject(X25519_SPKI, p));
const ed25519Publics = new KeyCache((p) => publicKeyObject(ED25519_SPKI, p));

function rawPublic(key: nc.KeyObject): Uint8Array {
  const encoded = key.export({ format: "der", type: "spki" });
  return plain(encoded.subarray(SPKI_LENGTH - 32));
}

/** The 32 raw bytes of a PKCS#8 secret; the exported DER is zeroed. */
function rawSecret(key: nc.KeyObject): Uint8Array {
  const encoded = key.export({ format: "der", type: "pkcs8" });
  const secret = plain(encoded.subarray(encoded.length - 32)).slice();
  encoded.fill(0);
  return secret;
}

function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Invalid random length "${length}"`);
  }
  return plain(nc.randomBytes(length));
}

function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return rawPublic(nc.createPublicKey(x25519Secrets.get(secretKey)));
}

function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return rawPublic(nc.createPublicKey(ed25519Secrets.get(secretKey)));
}

/** A fresh pair whose KeyObjects start out cached for the arrays returned. */
function keyPair(
  type: "x25519" | "ed25519",
  caches: [KeyCache<nc.KeyObject>, KeyCache<nc.KeyObject>],
): KeyPair {
  // The overloads of generateKeyPairSync do not take a union type.
  const made = type === "x25519"
    ? nc.generateKeyPairSync("x25519")
    : nc.generateKeyPairSync("ed25519");
  const secretKey = rawSecret(made.privateKey);
  const publicKey = rawPublic(made.publicKey);
  caches[0].set(secretKey, made.privateKey);
  caches[1].set(publicKey, made.publicKey);
  return { secretKey, publicKey };
}

/** Inputs up to this many bytes are BLAKE2s-hashed in JavaScript. */
const SMALL_INPUT = 1024;
const BLAKE2S_BLOCK = 64;
const ipad = new Uint8Array(BLAKE2S_BLOCK);
const opad = new Uint8Array(BLAKE2S_BLOCK);
/** The inner digest of an HMAC: scratch, zeroed after each use. */
const innerDigest = new Uint8Array(32);

function hash(name: HashName, data: Uint8Array): Uint8Array {
  if (data.length <= SMALL_INPUT) {
    if (name === "blake2s") return blake2s([data]);
    if (name === "sha256") return sha256(data);
  }
  const alg = NODE_HASH[name];
  if (alg === undefined) throw new TypeError(`Unknown hash "${name}"`);
  return plain(nc.createHash(alg).update(data).digest());
}

/** RFC 2104 for BLAKE2s: in JavaScript for Noise's short inputs. */
function hmacBlake2s(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length <= SMALL_INPUT) return jsHmacBlake2s(key, data);
  const k = key.length > BLAKE2S_BLOCK ? hash("blake2s", key) : key;
  ipad.fill(0x36);
  opad.fill(0x5c);
  for (let i = 0; i < k.length; i++) ipad[i] ^= k[i], opad[i] ^= k[i];
  const digest = nc.createHash("blake2s256").update(ipad).update(data)
    .digest();
  innerDigest.set(digest);
  digest.fill(0);
  const out = blake2s([opad, innerDigest]);
  ipad.fill(0);
  opad.fill(0);
  innerDigest.fill(0);
  if (k !== key) k.fill(0);
  return out;
}

/** RFC 2104: H((K ^ opad) || H((K ^ ipad) || data)), K hashed when long. */
function hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  if (name === "blake2s") return hmacBlake2s(key, data);
  const alg = NODE_HASH[name];
  if (alg === undefined) throw new TypeError(`Unknown hash "${name}"`);
  const block = BLOCK_LENGTH[name];
  const k = key.length > block ? nc.createHash(alg).update(key).digest() : key;
  const pad = new Uint8Array(block);
  pad.set(k);
  for (let i = 0; i < block; i++) pad[i] ^= 0x36;
  const inner = nc.createHash(alg).update(pad).update(data).digest();
  for (let i = 0; i < block; i++) pad[i] ^= 0x36 ^ 0x5c;
  const out = plain(nc.createHash(alg).update(pad).update(inner).digest());
  pad.fill(0);
  inner.fill(0);
  if (k !== key) k.fill(0);
  return out;
}

/** Noise's HKDF: BLAKE2s all in JavaScript, other hashes over hmac(). */
function hkdf(
  name: HashName,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  count: 2 | 3,
): Uint8Array[] {
  if (name === "blake2s" && ikm.length <= SMALL_INPUT) {
    return hkdfBlake2s(chainingKey, ikm, count);
  }
  return hkdfFromHmac(hmac, name, chainingKey, ikm, count);
}

export const nativeCrypto: CryptoProvider = {
  name: "native",
  randomBytes,
  hash(name: HashName, data: Uint8Array): Uint8Array {
    checkBytes("data", data);
    return hash(name, data);
  },
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkBytes("key", key);
    checkBytes("data", data);
    return hmac(name, key, data);
  },
  hkdf(name, chainingKey, ikm, count): Uint8Array[] {
    checkHkdfArgs(chainingKey, ikm, count);
    return hkdf(name, chainingKey, ikm, count);
  },
  x25519: {
    generateKeyPair: () => keyPair("x25519", [x25519Secrets, x25519Publics]),
    publicKey: x25519PublicKey,
    sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      checkBytes("secretKey", secretKey, 32);
      checkBytes("publicKey", publicKey, 32);
      let shared: Uint8Array;
      try {
        shared = plain(nc.diffieHellman({
          privateKey: x25519Secrets.get(secretKey),
          publicKey: x25519Publics.get(publicKey),
        }));
      } catch {
        // OpenSSL refuses the all-zero result itself; report it the same way
        // the noble backend does.
        shared = new Uint8Array(32);
      }
      return checkSharedSecret(shared);
    },
  },
  ed25519: {
    generateKeyPair: () => keyPair("ed25519", [ed25519Secrets, ed25519Publics]),
    publicKey: ed25519PublicKey,
    sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
      checkBytes("secretKey", secretKey, 32);
      checkBytes("message", message);
      return plain(
        nc.sign(null, message, ed25519Secrets.get(secretKey)),
      );
    },
    verify(
      publicKey: Uint8Array,
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean {
      if (!checkVerifyArgs(publicKey, message, signature)) return false;
      try {
        const key = ed25519Publics.get(publicKey);
        return nc.verify(null, message, key, signature);
      } catch {
        // A public key that is not a curve point verifies nothing.
        return false;
      }
    },
  },
  aead: {
    seal(key, nonce, plaintext, ad, output): Uint8Array {
      checkSealArgs(key, nonce, plaintext, ad, output);
      if (plaintext.length <= SMALL_AEAD) {
        const out = output ?? new Uint8Array(plaintext.length + 16);
        return jsAead.seal(key, nonce, plaintext, ad, out);
      }
      const cipher = nc.createCipheriv("chacha20-poly1305", key, nonce, {
        authTagLength: 16,
      });
      cipher.setAAD(ad, { plaintextLength: plaintext.length });
      const out = output ?? new Uint8Array(plaintext.length + 16);
      // node:crypto always returns a fresh buffer: one copy into `out` is the least.
      const body = cipher.update(plaintext);
      out.set(body);
      const tail = cipher.final();
      out.set(tail, body.length);
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },
    open(key, nonce, ciphertext, ad): Uint8Array | null {
      checkOpenArgs(key, nonce, ciphertext, ad);
      if (ciphertext.length < 16) return null;
      const split = ciphertext.length - 16;
      if (split <= SMALL_AEAD) return jsAead.open(key, nonce, ciphertext, ad);
      const decipher = nc.createDecipheriv("chacha20-poly1305", key, nonce, {
        authTagLength: 16,
      });
      decipher.setAuthTag(ciphertext.subarray(split));
      decipher.setAAD(ad, { plaintextLength: split });
      const body = decipher.update(ciphertext.subarray(0, split));
      let tail: Uint8Array;
      try {
        tail = decipher.final();
      } catch {
        // Unauthenticated plaintext never leaves this function.
        body.fill(0);
        return null;
      }
      // A stream cipher's final() adds nothing: the fresh buffer from
      // update() is the plaintext, and copying it again would be waste.
      if (tail.length === 0 && body.length === split) return plain(body);
      const out = new Uint8Array(split);
      out.set(body);
      out.set(tail, body.length);
      body.fill(0);
      return out;
    },
  },
};
