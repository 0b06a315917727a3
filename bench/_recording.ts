/**
 * The primitive floor of a handshake or session: a CryptoProvider that runs
 * each call and also logs a replayable copy of it, so a bench can time the
 * same primitive calls alone, in the same run, as the baseline.
 */
import type { CryptoProvider } from "../protocol/crypto.ts";

/** Wraps `inner`, appending a replayable closure for every primitive call to `log`. */
export function recording(
  inner: CryptoProvider,
  log: (() => unknown)[],
): CryptoProvider {
  const rec = <A extends unknown[], R>(fn: (...a: A) => R) => (...a: A): R => {
    const copies = a.map((x) => x instanceof Uint8Array ? x.slice() : x) as A;
    log.push(() => fn(...copies));
    return fn(...a);
  };
  return {
    name: inner.name,
    randomBytes: rec(inner.randomBytes),
    hash: rec(inner.hash),
    hmac: rec(inner.hmac),
    hkdf: inner.hkdf ? rec(inner.hkdf) : undefined,
    x25519: {
      generateKeyPair: rec(inner.x25519.generateKeyPair),
      publicKey: rec(inner.x25519.publicKey),
      sharedSecret: rec(inner.x25519.sharedSecret),
    },
    ed25519: {
      generateKeyPair: rec(inner.ed25519.generateKeyPair),
      publicKey: rec(inner.ed25519.publicKey),
      sign: rec(inner.ed25519.sign),
      verify: rec(inner.ed25519.verify),
    },
    aead: { seal: rec(inner.aead.seal), open: rec(inner.aead.open) },
  };
}
