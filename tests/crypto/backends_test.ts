/**
 * One vector suite, run against every CryptoProvider backend: the published
 * RFC vectors, tamper checks, low-order rejection, and agreement between
 * backends on random inputs.
 */
import assert from "node:assert/strict";
import { cryptoByName, nativeCrypto, nobleCrypto } from "../../crypto/mod.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";

const BACKENDS: CryptoProvider[] = [nativeCrypto, nobleCrypto];
const EMPTY = new Uint8Array(0);

/** RFC 5869 section 2 with an empty info, from the backend's own hmac(). */
function rfc5869(
  c: CryptoProvider,
  name: "sha256" | "sha512" | "blake2s" | "blake2b",
  salt: Uint8Array,
  ikm: Uint8Array,
  length: number,
): Uint8Array {
  const prk = c.hmac(name, salt, ikm);
  const okm = new Uint8Array(length);
  let t: Uint8Array = EMPTY;
  for (let at = 0, i = 1; at < length; i++) {
    const input = new Uint8Array(t.length + 1);
    input.set(t);
    input[t.length] = i;
    t = c.hmac(name, prk, input);
    okm.set(t.subarray(0, length - at), at);
    at += t.length;
  }
  return okm;
}

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s.replace(/\s+/g, "").match(/../g) ?? [],
    (b) => parseInt(b, 16),
  );
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// RFC 7748 section 5.2 (single scalar multiplications) and 6.1 (the DH).
const X25519_VECTORS = [
  {
    scalar: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
    u: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
    out: "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
  },
  {
    scalar: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
    u: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
    out: "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
  },
];
const ALICE_SK =
  "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PK =
  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SK =
  "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PK =
  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const DH_SHARED =
  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

// Public keys of small order: each makes the shared secret all zero.
const LOW_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
];

// RFC 8032 section 7.1, tests 1-3.
const ED25519_VECTORS = [
  {
    sk: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    pk: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    msg: "",
    sig:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    sk: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    pk: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    msg: "72",
    sig:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    sk: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    pk: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    msg: "af82",
    sig:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

// RFC 8439 section 2.8.2.
const AEAD = {
  key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
  nonce: "070000004041424344454647",
  ad: "50515253c0c1c2c3c4c5c6c7",
  plaintext: "Ladies and Gentlemen of the class of '99: If I could offer " +
    "you only one tip for the future, sunscreen would be it.",
  ciphertext:
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
    "3ff4def08e4b7a9de576d26586cec64b6116",
  tag: "1ae10b594f09e26a7e902ecbd0600691",
};

// FIPS 180-2 / RFC 7693 appendices, "abc"; RFC 4231 HMAC cases 1 and 2.
const HASHES = [
  {
    name: "sha256",
    input: "",
    out: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  },
  {
    name: "sha256",
    input: "abc",
    out: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  },
  {
    name: "sha512",
    input: "abc",
    out: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  },
  {
    name: "blake2s",
    input: "abc",
    out: "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
  },
  {
    name: "blake2b",
    input: "abc",
    out: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
  },
] as const;
const HMACS = [
  {
    name: "sha256",
    key: "0b".repeat(20),
    data: utf8("Hi There"),
    out: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    name: "sha256",
    key: "4a656665",
    data: utf8("what do ya want for nothing?"),
    out: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    name: "sha512",
    key: "4a656665",
    data: utf8("what do ya want for nothing?"),
    out: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" +
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  },
] as const;

for (const c of BACKENDS) {
  const t = (name: string, fn: () => void) =>
    Deno.test(`[${c.name}] ${name}`, fn);

  t("x25519.sharedSecret() reproduces the RFC 7748 scalar vectors", () => {
    for (const v of X25519_VECTORS) {
      assert.deepEqual(
        c.x25519.sharedSecret(hex(v.scalar), hex(v.u)),
        hex(v.out),
      );
    }
  });

  t("x25519 reproduces the RFC 7748 Diffie-Hellman example", () => {
    assert.deepEqual(c.x25519.publicKey(hex(ALICE_SK)), hex(ALICE_PK));
    assert.deepEqual(c.x25519.publicKey(hex(BOB_SK)), hex(BOB_PK));
    assert.deepEqual(
      c.x25519.sharedSecret(hex(ALICE_SK), hex(BOB_PK)),
      hex(DH_SHARED),
    );
    assert.deepEqual(
      c.x25519.sharedSecret(hex(BOB_SK), hex(ALICE_PK)),
      hex(DH_SHARED),
    );
  });

  t("x25519.sharedSecret() throws on a low-order public key", () => {
    for (const pk of LOW_ORDER) {
      assert.throws(
        () => c.x25519.sharedSecret(hex(ALICE_SK), hex(pk)),
        RangeError,
      );
    }
  });

  t("x25519 rejects keys of the wrong length", () => {
    assert.throws(() => c.x25519.publicKey(new Uint8Array(31)), RangeError);
    assert.throws(
      () => c.x25519.sharedSecret(hex(ALICE_SK), new Uint8Array(33)),
      RangeError,
    );
  });

  t("ed25519 reproduces RFC 8032 tests 1-3", () => {
    for (const v of ED25519_VECTORS) {
      assert.deepEqual(c.ed25519.publicKey(hex(v.sk)), hex(v.pk));
      assert.deepEqual(c.ed25519.sign(hex(v.sk), hex(v.msg)), hex(v.sig));
      assert.equal(c.ed25519.verify(hex(v.pk), hex(v.msg), hex(v.sig)), true);
    }
  });

  t("ed25519.verify() is false for a tampered message or signature", () => {
    const v = ED25519_VECTORS[2];
    const sig = hex(v.sig);
    sig[5] ^= 1;
    assert.equal(c.ed25519.verify(hex(v.pk), hex(v.msg), sig), false);
    assert.equal(c.ed25519.verify(hex(v.pk), hex("af83"), hex(v.sig)), false);
    assert.equal(
      c.ed25519.verify(hex(v.pk), hex(v.msg), hex(v.sig).subarray(1)),
      false,
    );
  });

  t("ed25519.verify() is false for a public key that is not a point", () => {
    // y = 2 has no x on edwards25519.
    const notPoint = new Uint8Array(32);
    notPoint[0] = 2;
    const v = ED25519_VECTORS[0];
    assert.equal(c.ed25519.verify(notPoint, hex(v.msg), hex(v.sig)), false);
  });

  t("aead.seal() reproduces the RFC 8439 section 2.8.2 vector", () => {
    const sealed = c.aead.seal(
      hex(AEAD.key),
      hex(AEAD.nonce),
      utf8(AEAD.plaintext),
      hex(AEAD.ad),
    );
    assert.deepEqual(sealed, hex(AEAD.ciphertext + AEAD.tag));
    const opened = c.aead.open(
      hex(AEAD.key),
      hex(AEAD.nonce),
      sealed,
      hex(AEAD.ad),
    );
    assert.deepEqual(opened, utf8(AEAD.plaintext));
  });

  t("aead.open() returns null for any tampered byte, ad or nonce", () => {
    const sealed = hex(AEAD.ciphertext + AEAD.tag);
    for (const i of [0, 57, sealed.length - 17, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[i] ^= 0x80;
      assert.equal(
        c.aead.open(hex(AEAD.key), hex(AEAD.nonce), bad, hex(AEAD.ad)),
        null,
      );
    }
    assert.equal(
      c.aead.open(hex(AEAD.key), hex(AEAD.nonce), sealed, hex("50")),
      null,
    );
    assert.equal(
      c.aead.open(hex(AEAD.key), new Uint8Array(12), sealed, hex(AEAD.ad)),
      null,
    );
    assert.equal(
      c.aead.open(
        hex(AEAD.key),
        hex(AEAD.nonce),
        sealed.subarray(0, 15),
        hex(AEAD.ad),
      ),
      null,
    );
  });

  t("aead seals and opens an empty plaintext", () => {
    const key = c.randomBytes(32);
    const sealed = c.aead.seal(
      key,
      new Uint8Array(12),
      new Uint8Array(0),
      new Uint8Array(0),
    );
    assert.equal(sealed.length, 16);
    assert.deepEqual(
      c.aead.open(key, new Uint8Array(12), sealed, new Uint8Array(0)),
      new Uint8Array(0),
    );
  });

  t("aead rejects a key or nonce of the wrong length", () => {
    assert.throws(
      () =>
        c.aead.seal(
          new Uint8Array(16),
          new Uint8Array(12),
          new Uint8Array(0),
          new Uint8Array(0),
        ),
      RangeError,
    );
    assert.throws(
      () =>
        c.aead.open(
          new Uint8Array(32),
          new Uint8Array(8),
          new Uint8Array(16),
          new Uint8Array(0),
        ),
      RangeError,
    );
  });

  t("hash() reproduces the SHA-2 and BLAKE2 known answers", () => {
    for (const v of HASHES) {
      assert.deepEqual(
        c.hash(v.name, utf8(v.input)),
        hex(v.out),
        `${v.name}(${v.input})`,
      );
    }
  });

  t("hmac() reproduces the RFC 4231 known answers", () => {
    for (const v of HMACS) {
      assert.deepEqual(c.hmac(v.name, hex(v.key), v.data), hex(v.out));
    }
  });

  t(
    "hkdf() equals RFC 5869 (salt = chaining key, no info) for every hash",
    () => {
      const lengths = { sha256: 32, sha512: 64, blake2s: 32, blake2b: 64 };
      for (const [name, length] of Object.entries(lengths)) {
        const h = name as keyof typeof lengths;
        for (const ikm of [new Uint8Array(0), c.randomBytes(32)]) {
          for (const count of [2, 3] as const) {
            const ck = c.randomBytes(length);
            const expected = rfc5869(c, h, ck, ikm, count * length);
            const outs = c.hkdf!(h, ck, ikm, count);
            assert.equal(outs.length, count);
            for (let i = 0; i < count; i++) {
              assert.deepEqual(
                outs[i],
                expected.subarray(i * length, (i + 1) * length),
                `${h} output ${i + 1}`,
              );
            }
          }
        }
      }
      assert.throws(
        () => c.hkdf!("blake2s", new Uint8Array(32), EMPTY, 4 as 2),
        RangeError,
      );
    },
  );

  t("randomBytes() returns fresh bytes of the requested length", () => {
    const a = c.randomBytes(32);
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, c.randomBytes(32));
    assert.throws(() => c.randomBytes(-1), RangeError);
  });

  t("generateKeyPair() gives keys whose public half matches the secret", () => {
    const x = c.x25519.generateKeyPair();
    assert.deepEqual(c.x25519.publicKey(x.secretKey), x.publicKey);
    const e = c.ed25519.generateKeyPair();
    assert.deepEqual(c.ed25519.publicKey(e.secretKey), e.publicKey);
  });
}

Deno.test("backends agree on random inputs in both directions", () => {
  for (let i = 0; i < 16; i++) {
    for (
      const [a, b] of [[nativeCrypto, nobleCrypto], [nobleCrypto, nativeCrypto]]
    ) {
      const msg = a.randomBytes(i * 37);
      const ed = a.ed25519.generateKeyPair();
      assert.deepEqual(b.ed25519.publicKey(ed.secretKey), ed.publicKey);
      assert.equal(
        b.ed25519.verify(ed.publicKey, msg, a.ed25519.sign(ed.secretKey, msg)),
        true,
      );
      const x1 = a.x25519.generateKeyPair();
      const x2 = b.x25519.generateKeyPair();
      assert.deepEqual(
        a.x25519.sharedSecret(x1.secretKey, x2.publicKey),
        b.x25519.sharedSecret(x2.secretKey, x1.publicKey),
      );
      const key = a.randomBytes(32);
      const nonce = a.randomBytes(12);
      const ad = a.randomBytes(i);
      assert.deepEqual(
        b.aead.open(key, nonce, a.aead.seal(key, nonce, msg, ad), ad),
        msg,
      );
      for (const h of ["sha256", "sha512", "blake2s", "blake2b"] as const) {
        assert.deepEqual(a.hash(h, msg), b.hash(h, msg));
        assert.deepEqual(
          a.hmac(h, key.subarray(0, i), msg),
          b.hmac(h, key.subarray(0, i), msg),
        );
      }
    }
  }
});

Deno.test("cryptoByName() finds each backend and rejects an unknown name", () => {
  assert.equal(cryptoByName("native"), nativeCrypto);
  assert.equal(cryptoByName("noble"), nobleCrypto);
  assert.throws(() => cryptoByName("rot13"), RangeError);
});

for (const c of BACKENDS) {
  Deno.test(`[${c.name}] aead.seal() into an output buffer equals a plain seal`, () => {
    const key = c.randomBytes(32);
    const nonce = c.randomBytes(12);
    const plaintext = c.randomBytes(100);
    const ad = c.randomBytes(9);
    const backing = new Uint8Array(120);
    const output = backing.subarray(2, 118);
    const sealed = c.aead.seal(key, nonce, plaintext, ad, output);
    assert.equal(sealed, output);
    assert.deepEqual(output, c.aead.seal(key, nonce, plaintext, ad));
    assert.deepEqual(c.aead.open(key, nonce, output, ad), plaintext);
    assert.throws(
      () => c.aead.seal(key, nonce, plaintext, ad, new Uint8Array(115)),
      RangeError,
    );
  });
}
