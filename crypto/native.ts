/**
 * The default CryptoProvider (protocol/crypto.ts), on node:crypto as Deno
 * provides it: native X25519, Ed25519, ChaCha20-Poly1305 (RFC 8439), SHA-2
 * and BLAKE2. It exists because the handshake and transport hot paths are
 * several times faster here than in pure JavaScript.
 *
 * Raw 32-byte keys become KeyObjects through fixed DER prefixes (PKCS#8 for
 * secrets, SPKI for public keys) written into a fresh buffer per call; the
 * buffer holding a secret is zeroed as soon as the KeyObject exists, and no
 * KeyObject outlives the call that built it.
 */
import * as nc from "node:crypto";
import type { CryptoProvider, HashName, KeyPair } from "../protocol/crypto.ts";
import { checkBytes, checkSharedSecret } from "./_bytes.ts";

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

function privateKey(prefix: Uint8Array, secret: Uint8Array): nc.KeyObject {
  const der = new Uint8Array(prefix.length + 32);
  der.set(prefix);
  der.set(secret, prefix.length);
  try {
    return nc.createPrivateKey({
      key: der as unknown as Buffer,
      format: "der",
      type: "pkcs8",
    });
  } finally {
    der.fill(0);
  }
}

function publicKeyObject(prefix: Uint8Array, pub: Uint8Array): nc.KeyObject {
  const der = new Uint8Array(prefix.length + 32);
  der.set(prefix);
  der.set(pub, prefix.length);
  return nc.createPublicKey({
    key: der as unknown as Buffer,
    format: "der",
    type: "spki",
  });
}

function rawPublic(key: nc.KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return plain(der.subarray(SPKI_LENGTH - 32));
}

function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Invalid random length "${length}"`);
  }
  return plain(nc.randomBytes(length));
}

function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return rawPublic(
    nc.createPublicKey(privateKey(X25519_PKCS8, secretKey)),
  );
}

function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  checkBytes("secretKey", secretKey, 32);
  return rawPublic(
    nc.createPublicKey(privateKey(ED25519_PKCS8, secretKey)),
  );
}

function keyPair(publicKey: (secret: Uint8Array) => Uint8Array): KeyPair {
  const secretKey = randomBytes(32);
  return { secretKey, publicKey: publicKey(secretKey) };
}

export const nativeCrypto: CryptoProvider = {
  name: "native",
  randomBytes,
  hash(name: HashName, data: Uint8Array): Uint8Array {
    checkBytes("data", data);
    const alg = NODE_HASH[name];
    if (alg === undefined) throw new TypeError(`Unknown hash "${name}"`);
    return plain(nc.createHash(alg).update(data).digest());
  },
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkBytes("key", key);
    checkBytes("data", data);
    const alg = NODE_HASH[name];
    if (alg === undefined) throw new TypeError(`Unknown hash "${name}"`);
    return plain(nc.createHmac(alg, key).update(data).digest());
  },
  x25519: {
    generateKeyPair: () => keyPair(x25519PublicKey),
    publicKey: x25519PublicKey,
    sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      checkBytes("secretKey", secretKey, 32);
      checkBytes("publicKey", publicKey, 32);
      const priv = privateKey(X25519_PKCS8, secretKey);
      const pub = publicKeyObject(X25519_SPKI, publicKey);
      let shared: Uint8Array;
      try {
        shared = plain(nc.diffieHellman({ privateKey: priv, publicKey: pub }));
      } catch {
        // OpenSSL refuses the all-zero result itself; report it the same way
        // the noble backend does.
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
      return plain(
        nc.sign(null, message, privateKey(ED25519_PKCS8, secretKey)),
      );
    },
    verify(
      publicKey: Uint8Array,
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean {
      checkBytes("publicKey", publicKey, 32);
      checkBytes("message", message);
      checkBytes("signature", signature);
      if (signature.length !== 64) return false;
      try {
        const key = publicKeyObject(ED25519_SPKI, publicKey);
        return nc.verify(null, message, key, signature);
      } catch {
        // A public key that is not a curve point verifies nothing.
        return false;
      }
    },
  },
  aead: {
    seal(key, nonce, plaintext, ad): Uint8Array {
      checkBytes("key", key, 32);
      checkBytes("nonce", nonce, 12);
      checkBytes("plaintext", plaintext);
      checkBytes("ad", ad);
      const cipher = nc.createCipheriv("chacha20-poly1305", key, nonce, {
        authTagLength: 16,
      });
      cipher.setAAD(ad, { plaintextLength: plaintext.length });
      const out = new Uint8Array(plaintext.length + 16);
      const body = cipher.update(plaintext);
      out.set(body);
      const tail = cipher.final();
      out.set(tail, body.length);
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },
    open(key, nonce, ciphertext, ad): Uint8Array | null {
      checkBytes("key", key, 32);
      checkBytes("nonce", nonce, 12);
      checkBytes("ciphertext", ciphertext);
      checkBytes("ad", ad);
      if (ciphertext.length < 16) return null;
      const split = ciphertext.length - 16;
      const decipher = nc.createDecipheriv("chacha20-poly1305", key, nonce, {
        authTagLength: 16,
      });
      decipher.setAuthTag(ciphertext.subarray(split));
      decipher.setAAD(ad, { plaintextLength: split });
      const out = new Uint8Array(split);
      const body = decipher.update(ciphertext.subarray(0, split));
      out.set(body);
      try {
        out.set(decipher.final(), body.length);
      } catch {
        // Unauthenticated plaintext never leaves this function.
        out.fill(0);
        body.fill(0);
        return null;
      }
      return out;
    },
  },
};
