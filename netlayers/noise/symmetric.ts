/**
 * Noise Protocol Framework rev. 34, sections 4 and 5.1-5.2: the hash
 * functions with HMAC/HKDF, the CipherState and the SymmetricState. Every
 * handshake pattern (handshake.ts) and the transport (transport.ts) is built
 * from these; the primitives come from the injected CryptoProvider.
 */
import { concatBytes } from "../../protocol/bytes.ts";
import {
  type CryptoProvider,
  type HashName,
  hkdfFromHmac,
} from "../../protocol/crypto.ts";
import { NoiseError } from "./errors.ts";

/** The Noise hash names this layer speaks, mapped to provider names. */
export const NOISE_HASHES: Record<string, HashName> = {
  BLAKE2s: "blake2s",
  BLAKE2b: "blake2b",
  SHA256: "sha256",
};

const HASH_LENGTH: Record<string, number> = {
  blake2s: 32,
  blake2b: 64,
  sha256: 32,
};

const EMPTY = new Uint8Array(0);

/**
 * Section 5.1 lets n reach 2^64 - 1; we stop at 2^53 - 1 so the counter stays
 * an exact JS number. No session lives long enough to notice.
 */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

/** Section 5.1's nonce: 32 bits of zeros, then n as 64-bit little-endian. */
export function nonceBytes(n: number, out = new Uint8Array(12)): Uint8Array {
  // Byte by byte rather than through a DataView: this runs for every
  // record, and a view per call was an allocation per record.
  const low = n >>> 0;
  const high = Math.floor(n / 0x1_0000_0000);
  out[0] =
    out[1] =
    out[2] =
    out[3] =
      0;
  out[4] = low;
  out[5] = low >>> 8;
  out[6] = low >>> 16;
  out[7] = low >>> 24;
  out[8] = high;
  out[9] = high >>> 8;
  out[10] = high >>> 16;
  out[11] = high >>> 24;
  return out;
}

const REKEY_NONCE = new Uint8Array(12).fill(0xff, 4);

export class CipherState {
  #crypto: CryptoProvider;
  #k: Uint8Array | null = null;
  #n = 0;
  #nonce = new Uint8Array(12);

  constructor(crypto: CryptoProvider, key?: Uint8Array) {
    this.#crypto = crypto;
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array): void {
    this.#k?.fill(0);
    this.#k = key.slice(0, 32);
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#k !== null;
  }

  get nonce(): number {
    return this.#n;
  }

  setNonce(n: number): void {
    this.#n = n;
  }

  /**
   * With `output` (plaintext.length + 16 bytes) the ciphertext is written
   * there; a keyless state copies the plaintext into it.
   */
  encryptWithAd(
    ad: Uint8Array,
    plaintext: Uint8Array,
    output?: Uint8Array,
  ): Uint8Array {
    if (this.#k === null) {
      if (output === undefined) return plaintext;
      output.set(plaintext);
      return output.subarray(0, plaintext.length);
    }
    this.#checkNonce();
    const out = this.#crypto.aead.seal(
      this.#k,
      nonceBytes(this.#n, this.#nonce),
      plaintext,
      ad,
      output,
    );
    this.#n++;
    return out;
  }

  /** Throws NoiseError "decrypt-failed" and leaves n unchanged on a bad tag. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#k === null) return ciphertext;
    this.#checkNonce();
    const out = this.#crypto.aead.open(
      this.#k,
      nonceBytes(this.#n, this.#nonce),
      ciphertext,
      ad,
    );
    if (out === null) {
      throw new NoiseError("decrypt-failed", "Noise message failed to decrypt");
    }
    this.#n++;
    return out;
  }

  /** Section 4.2 REKEY: the first 32 bytes of encrypting zeros at nonce max. */
  rekey(): void {
    if (this.#k === null) return;
    const next = this.#crypto.aead.seal(
      this.#k,
      REKEY_NONCE,
      new Uint8Array(32),
      EMPTY,
    );
    this.#k.fill(0);
    this.#k = next.subarray(0, 32);
  }

  /** Zeroes the key; the state is unusable (keyless) afterwards. */
  destroy(): void {
    this.#k?.fill(0);
    this.#k = null;
    this.#n = 0;
  }

  #checkNonce(): void {
    if (this.#n >= MAX_NONCE) {
      throw new NoiseError("nonce-exhausted", "Noise nonce space is used up");
    }
  }
}

/**
 * Section 5.2's initial h for each protocol name: the name padded, or
 * hashed when longer than HASHLEN. It depends on the name alone and every
 * handshake starts from it, so it is derived once per name. Keyed by
 * backend too, so that each backend's own hash is what the vectors check.
 */
const initialHashes = new Map<string, Uint8Array>();

function initialHash(
  crypto: CryptoProvider,
  protocolName: string,
  hash: HashName,
): Uint8Array {
  const key = `${crypto.name} ${protocolName}`;
  let h = initialHashes.get(key);
  if (h === undefined) {
    const name = new TextEncoder().encode(protocolName);
    const hashLength = HASH_LENGTH[hash];
    if (name.length <= hashLength) {
      h = new Uint8Array(hashLength);
      h.set(name);
    } else {
      h = crypto.hash(hash, name);
    }
    initialHashes.set(key, h);
  }
  return h.slice();
}

/**
 * h || data for mixHash, in one reused buffer rather than a fresh array per
 * token: a handshake mixes a dozen times. Only public bytes pass through
 * (h, keys and ciphertexts as sent, cleartext payloads as sent).
 */
const MIX_SCRATCH = 1024;
const mixScratch = new Uint8Array(MIX_SCRATCH);

export class SymmetricState {
  readonly cipher: CipherState;
  #crypto: CryptoProvider;
  #hash: HashName;
  #ck: Uint8Array;
  #h: Uint8Array;

  /** Section 5.2 InitializeSymmetric; `hashName` is the Noise spelling. */
  constructor(crypto: CryptoProvider, protocolName: string, hashName: string) {
    const hash = NOISE_HASHES[hashName];
    if (hash === undefined) {
      throw new RangeError(`Unsupported Noise hash "${hashName}"`);
    }
    this.#crypto = crypto;
    this.#hash = hash;
    this.#h = initialHash(crypto, protocolName, hash);
    this.#ck = this.#h.slice();
    this.cipher = new CipherState(crypto);
  }

  /** Section 4.3 HKDF, returning two or three outputs. */
  hkdf(chainingKey: Uint8Array, ikm: Uint8Array, count: 2 | 3): Uint8Array[] {
    const hash = this.#hash;
    if (this.#crypto.hkdf) {
      return this.#crypto.hkdf(hash, chainingKey, ikm, count);
    }
    return hkdfFromHmac(this.#crypto.hmac, hash, chainingKey, ikm, count);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = this.hkdf(this.#ck, ikm, 2);
    this.#ck.fill(0);
    this.#ck = ck;
    // HASHLEN 64 (BLAKE2b): the cipher key is the first 32 bytes.
    this.cipher.initializeKey(tempK);
    tempK.fill(0);
  }

  mixHash(data: Uint8Array): void {
    const h = this.#h;
    const length = h.length + data.length;
    if (length > MIX_SCRATCH) {
      this.#h = this.#crypto.hash(this.#hash, concatBytes([h, data]));
      return;
    }
    mixScratch.set(h);
    mixScratch.set(data, h.length);
    this.#h = this.#crypto.hash(this.#hash, mixScratch.subarray(0, length));
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = this.hkdf(this.#ck, ikm, 3);
    this.#ck.fill(0);
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipher.initializeKey(tempK);
    tempK.fill(0);
  }

  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Section 5.2 Split: the initiator's sending and receiving ciphers. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.hkdf(this.#ck, EMPTY, 2);
    const pair: [CipherState, CipherState] = [
      new CipherState(this.#crypto, k1),
      new CipherState(this.#crypto, k2),
    ];
    k1.fill(0);
    k2.fill(0);
    return pair;
  }

  /** Zeroes the chaining key and the handshake cipher key. */
  destroy(): void {
    this.#ck.fill(0);
    this.cipher.destroy();
  }
}
