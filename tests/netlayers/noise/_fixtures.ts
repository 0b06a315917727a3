/** Shared fixtures: identities and a CryptoProvider that counts DH calls. */
import { nativeCrypto } from "../../../crypto/mod.ts";
import type { CryptoProvider } from "../../../protocol/crypto.ts";
import {
  type NoiseIdentity,
  noiseIdentity,
} from "../../../netlayers/noise/peer_handshake.ts";

export function makeIdentity(c: CryptoProvider = nativeCrypto): NoiseIdentity {
  return noiseIdentity(c, c.ed25519.generateKeyPair());
}

/** Wraps a provider, counting X25519 shared-secret computations. */
export function countingCrypto(
  inner: CryptoProvider,
): { crypto: CryptoProvider; dhCalls: () => number } {
  let calls = 0;
  const crypto: CryptoProvider = {
    ...inner,
    x25519: {
      ...inner.x25519,
      sharedSecret(secretKey, publicKey) {
        calls++;
        return inner.x25519.sharedSecret(secretKey, publicKey);
      },
    },
  };
  return { crypto, dhCalls: () => calls };
}
