/**
 * The crypto backends behind protocol/crypto.ts. Callers pick one by value
 * (or by name, for CLIs and benchmarks) and pass it down; nothing below
 * runtime/ imports this module.
 */
import type { CryptoProvider } from "../protocol/crypto.ts";
import { nativeCrypto } from "./native.ts";
import { nobleCrypto } from "./noble.ts";

export { nativeCrypto, nobleCrypto };

/** node:crypto under Deno: the fast one. */
export const defaultCrypto: CryptoProvider = nativeCrypto;

/** The backend called `name` ("native" or "noble"). */
export function cryptoByName(name: string): CryptoProvider {
  if (name === "native") return nativeCrypto;
  if (name === "noble") return nobleCrypto;
  throw new RangeError(`Unknown crypto backend "${name}"`);
}
