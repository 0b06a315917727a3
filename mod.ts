/**
 * ocapn-deno: an OCapN runtime for Deno.
 *
 * ```ts
 * import { E, OCapNNode, TcpTestingNetlayer } from "./mod.ts";
 * const node = new OCapNNode();
 * node.listen(TcpTestingNetlayer.listen({ designator: "alice" }));
 * const greeter = node.vat.makeFar("Greeter", { hello: (n: string) => `Hi ${n}` });
 * console.log(node.publishUri(greeter)); // give this URI to a peer
 * // A peer: const ref = await node.enliven(uri); await E(ref).hello("bob");
 * ```
 *
 * The layers, each importable on its own: protocol/ (pure: Syrup, the data
 * model, locators, the registry, CapTP), crypto/, netlayers/, runtime/.
 */
export * from "./runtime/mod.ts";
export { type NodeOptions, OCapNNode } from "./runtime/node.ts";
export * from "./netlayers/mod.ts";
export {
  cryptoByName,
  defaultCrypto,
  nativeCrypto,
  nobleCrypto,
} from "./crypto/mod.ts";
export type { CryptoProvider, KeyPair } from "./protocol/crypto.ts";
export type { Clock } from "./protocol/clock.ts";
export { ManualClock } from "./protocol/manual_clock.ts";
export { Registry, StaleHashcodeError } from "./protocol/registry.ts";
export {
  formatPeerUri,
  formatSturdyRefUri,
  type OCapNPeer,
  type OCapNSturdyRef,
  parsePeerUri,
  parseSturdyRefUri,
  samePeer,
} from "./protocol/locator.ts";
export { RemoteError } from "./protocol/errors.ts";
export { RevealedError, selector, Tagged } from "./protocol/model.ts";
