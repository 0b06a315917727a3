/**
 * Every vector in shared/vectors/noise-25519-chachapoly.json, replayed with
 * both crypto backends: each handshake and transport ciphertext byte for
 * byte, and the handshake hash on both sides.
 */
import assert from "node:assert/strict";
import { nativeCrypto, nobleCrypto } from "../../../crypto/mod.ts";
import type { CryptoProvider, KeyPair } from "../../../protocol/crypto.ts";
import { HandshakeState } from "../../../netlayers/noise/handshake.ts";
import { StaticStaticCache } from "../../../netlayers/noise/static_static.ts";
import type { CipherState } from "../../../netlayers/noise/symmetric.ts";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  init_psks?: string[];
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  resp_psks?: string[];
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const file = new URL(
  "../../../../shared/vectors/noise-25519-chachapoly.json",
  import.meta.url,
);
const { vectors } = JSON.parse(Deno.readTextFileSync(file)) as {
  vectors: Vector[];
};

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

function pair(c: CryptoProvider, secret?: string): KeyPair | undefined {
  if (secret === undefined) return undefined;
  const secretKey = hex(secret);
  return { secretKey, publicKey: c.x25519.publicKey(secretKey) };
}

Deno.test("the vector file holds the 18 expected protocols", () => {
  assert.equal(vectors.length, 18);
});

/**
 * One replay of `v`. With `caches`, each side keeps its static-static
 * secret there, as a peer's identity does; a second replay then takes `ss`
 * from the cache and must still produce every byte.
 */
function replay(
  c: CryptoProvider,
  v: Vector,
  caches?: { initiator: StaticStaticCache; responder: StaticStaticCache },
) {
  const initiator = new HandshakeState(c, v.protocol_name, {
    initiator: true,
    prologue: hex(v.init_prologue),
    s: pair(c, v.init_static),
    e: pair(c, v.init_ephemeral),
    rs: v.init_remote_static ? hex(v.init_remote_static) : undefined,
    psks: v.init_psks?.map(hex),
    staticStatic: caches?.initiator,
  });
  const responder = new HandshakeState(c, v.protocol_name, {
    initiator: false,
    prologue: hex(v.resp_prologue),
    s: pair(c, v.resp_static),
    e: pair(c, v.resp_ephemeral),
    rs: v.resp_remote_static ? hex(v.resp_remote_static) : undefined,
    psks: v.resp_psks?.map(hex),
    staticStatic: caches?.responder,
  });
  let i = 0;
  for (; !initiator.complete; i++) {
    const [writer, reader] = i % 2 === 0
      ? [initiator, responder]
      : [responder, initiator];
    const { payload, ciphertext } = v.messages[i];
    assert.deepEqual(writer.writeMessage(hex(payload)), hex(ciphertext));
    assert.deepEqual(reader.readMessage(hex(ciphertext)), hex(payload));
  }
  assert.equal(responder.complete, true);
  const a = initiator.split();
  const b = responder.split();
  assert.deepEqual(a.handshakeHash, hex(v.handshake_hash));
  assert.deepEqual(b.handshakeHash, hex(v.handshake_hash));
  for (; i < v.messages.length; i++) {
    const [send, receive]: CipherState[] = i % 2 === 0
      ? [a.send, b.receive]
      : [b.send, a.receive];
    const { payload, ciphertext } = v.messages[i];
    const empty = new Uint8Array(0);
    assert.deepEqual(
      send.encryptWithAd(empty, hex(payload)),
      hex(ciphertext),
    );
    assert.deepEqual(
      receive.decryptWithAd(empty, hex(ciphertext)),
      hex(payload),
    );
  }
}

for (const c of [nativeCrypto, nobleCrypto]) {
  for (const v of vectors) {
    Deno.test(`[${c.name}] ${v.protocol_name} reproduces its vector`, () => {
      replay(c, v);
    });
  }
  const ik = vectors.filter((v) => v.protocol_name.startsWith("Noise_IK"));
  Deno.test(`[${c.name}] the IK vectors hold with the ss secret taken from a static-static cache`, () => {
    assert.ok(ik.length > 0);
    for (const v of ik) {
      const caches = {
        initiator: new StaticStaticCache(),
        responder: new StaticStaticCache(),
      };
      replay(c, v, caches);
      assert.equal(caches.initiator.size, 1);
      assert.equal(caches.responder.size, 1);
      replay(c, v, caches);
    }
  });
}

Deno.test("a provider without hkdf reproduces every vector through hmac", () => {
  let hmacCalls = 0;
  const withoutHkdf = {
    ...nativeCrypto,
    name: "native-without-hkdf",
    hkdf: undefined,
    hmac: (...args: Parameters<typeof nativeCrypto.hmac>) => {
      hmacCalls++;
      return nativeCrypto.hmac(...args);
    },
  };
  for (const v of vectors) replay(withoutHkdf, v);
  assert.ok(hmacCalls > 0);
});
