/**
 * What the Noise-keyed netlayers (noise-tcp, noise-udp) share besides the
 * listener: an Ed25519 identity whose public key is the designator, a crypto
 * provider, and the clock and registry that hold handshakes in flight
 * (protocol/registry.ts). Those a caller does not pass are made here, owned
 * by the netlayer and closed with it.
 */

import type { Clock } from "../protocol/clock.ts";
import type { CryptoProvider, KeyPair } from "../protocol/crypto.ts";
import { Registry } from "../protocol/registry.ts";
import { defaultCrypto } from "../crypto/mod.ts";
import { SystemClock } from "../runtime/system_clock.ts";
import { type NoiseIdentity, noiseIdentity } from "./noise/peer_handshake.ts";
import type { FramingOptions } from "./types.ts";

export interface NoiseListenerOptions extends FramingOptions {
  /** Our Ed25519 key pair; its public key is the designator (default: a fresh one). */
  identity?: KeyPair;
  crypto?: CryptoProvider;
  /** Default: a SystemClock of our own, closed with the netlayer. */
  clock?: Clock;
  /** Where handshakes in flight (and noise-udp's sessions and reassembly buffers) live (default: one of our own). */
  registry?: Registry;
  /** Address to listen on and to advertise (default "127.0.0.1"). */
  host?: string;
  /** 0 picks a free port, which the location reports (default 0). */
  port?: number;
}

/** The options' identity, crypto, clock and registry, defaults filled in. */
export class NoiseResources {
  readonly crypto: CryptoProvider;
  readonly keyPair: KeyPair;
  /** The key pair with its X25519 form: the Noise static key. */
  readonly identity: NoiseIdentity;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly #ownClock: SystemClock | undefined;
  readonly #ownRegistry: boolean;

  constructor(options: NoiseListenerOptions) {
    this.crypto = options.crypto ?? defaultCrypto;
    this.keyPair = options.identity ?? this.crypto.ed25519.generateKeyPair();
    this.identity = noiseIdentity(this.crypto, this.keyPair);
    if (!options.clock) this.#ownClock = new SystemClock();
    this.clock = options.clock ?? this.#ownClock!;
    this.#ownRegistry = options.registry === undefined;
    this.registry = options.registry ?? new Registry({ clock: this.clock });
  }

  /**
   * Zeroes the static-static secrets kept for peers; closes the registry
   * and clock made here (those passed in stay open).
   */
  close(): void {
    this.identity.staticStatic?.clear();
    if (this.#ownRegistry) this.registry.close();
    this.#ownClock?.close();
  }
}
