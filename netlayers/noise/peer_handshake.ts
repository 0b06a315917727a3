/**
 * Peer-authenticated handshakes for OCapN's encrypted netlayer. A peer's
 * identity is an Ed25519 key (its locator designator, protocol/base32.ts);
 * the X25519 form of that key is its Noise static key
 * (protocol/ed25519_to_x25519.ts). The dialer uses
 * Noise_IK_25519_ChaChaPoly_BLAKE2s when the locator names the responder's
 * key (one round trip) and Noise_XX_25519_ChaChaPoly_BLAKE2s when not.
 *
 * Whoever sends its static key also sends its Ed25519 public key as that
 * message's (encrypted) payload, and the receiver checks the two are the
 * same key: the converted static alone cannot name the Ed25519 key, whose
 * sign bit the conversion drops.
 *
 * Initiations start with one byte naming the pattern, so a responder can
 * serve both (this byte is covered by the cookie macs, not by Noise; a
 * flipped byte only makes the handshake fail).
 */
import type { CryptoProvider, KeyPair } from "../../protocol/crypto.ts";
import {
  ed25519PublicMatchesX25519,
  ed25519PublicToX25519,
  ed25519SeedToX25519,
} from "../../protocol/ed25519_to_x25519.ts";
import { NoiseError } from "./errors.ts";
import { HandshakeState } from "./handshake.ts";
import { StaticStaticCache } from "./static_static.ts";
import { Recent } from "./_recent.ts";
import { compareBytes } from "../../protocol/captp/keys.ts";
import { NoiseTransport, type TransportOptions } from "./transport.ts";

export const IK_PROTOCOL = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
export const XX_PROTOCOL = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
export const KIND_IK = 1;
export const KIND_XX = 2;
const EMPTY = new Uint8Array(0);

/** An Ed25519 identity with its X25519 form, derived once. */
export interface NoiseIdentity {
  readonly ed25519: KeyPair;
  readonly x25519: KeyPair;
  /**
   * IK's static-static secrets for recent peers, computed with `x25519`;
   * without it every handshake computes its own.
   */
  readonly staticStatic?: StaticStaticCache;
}

export function noiseIdentity(
  crypto: CryptoProvider,
  ed25519: KeyPair,
): NoiseIdentity {
  const secretKey = ed25519SeedToX25519(crypto, ed25519.secretKey);
  return {
    ed25519,
    x25519: { secretKey, publicKey: crypto.x25519.publicKey(secretKey) },
    staticStatic: new StaticStaticCache(),
  };
}

export interface Established {
  readonly transport: NoiseTransport;
  /** The peer's Ed25519 public key, checked against its Noise static key. */
  readonly remoteIdentity: Uint8Array;
}

export interface PeerHandshakeOptions {
  readonly identity: NoiseIdentity;
  /** Bound into the handshake hash; both sides must agree. */
  readonly prologue?: Uint8Array;
  readonly transport?: TransportOptions;
}

export interface InitiatorOptions extends PeerHandshakeOptions {
  /** The responder's Ed25519 key, when the locator names it: selects IK. */
  readonly remoteIdentity?: Uint8Array;
  /**
   * The X25519 form of `remoteIdentity`, when the caller has already
   * converted it (the cookie macs need it too); converted here otherwise.
   */
  readonly remoteStatic?: Uint8Array;
}

/**
 * Ed25519 identity -> X25519 static for recent peers. The conversion and the
 * match check are bigint arithmetic worth tens of microseconds, repeated
 * for every handshake with the same peer; and handing out one array per
 * peer lets the backend reuse the key object it built for it. Public data
 * only, bounded, least recently used goes first.
 */
const identityStatics = new Recent<Uint8Array>(256);

/**
 * The X25519 static of the Ed25519 `identity` (as ed25519PublicToX25519,
 * which throws on a key with none). The array returned is shared: callers
 * must not change it.
 */
export function identityStatic(identity: Uint8Array): Uint8Array {
  if (!(identity instanceof Uint8Array) || identity.length !== 32) {
    return ed25519PublicToX25519(identity); // throws the TypeError
  }
  return identityStatics.get(identity) ??
    identityStatics.set(identity, ed25519PublicToX25519(identity));
}

function checkIdentity(
  claimed: Uint8Array,
  remoteStatic: Uint8Array | undefined,
): Uint8Array {
  if (claimed.length !== 32 || remoteStatic === undefined) {
    throw new NoiseError("identity-mismatch", "Peer sent no identity key");
  }
  const known = identityStatics.get(claimed);
  if (known === undefined || compareBytes(known, remoteStatic) !== 0) {
    if (!ed25519PublicMatchesX25519(claimed, remoteStatic)) {
      throw new NoiseError(
        "identity-mismatch",
        "Peer static key does not match its identity",
      );
    }
    identityStatics.set(claimed, remoteStatic.slice());
  }
  return claimed.slice();
}

export class PeerInitiator {
  readonly kind: number;
  #hs: HandshakeState;
  #options: InitiatorOptions;

  constructor(crypto: CryptoProvider, options: InitiatorOptions) {
    this.#options = options;
    const { identity, remoteIdentity, prologue } = options;
    this.kind = remoteIdentity ? KIND_IK : KIND_XX;
    this.#hs = new HandshakeState(
      crypto,
      remoteIdentity ? IK_PROTOCOL : XX_PROTOCOL,
      {
        initiator: true,
        prologue,
        s: identity.x25519,
        staticStatic: identity.staticStatic,
        rs: remoteIdentity
          ? options.remoteStatic ?? identityStatic(remoteIdentity)
          : undefined,
      },
    );
  }

  /** Stage 1: the initiation (kind byte, then Noise message 1). */
  start(): Uint8Array {
    const payload = this.kind === KIND_IK
      ? this.#options.identity.ed25519.publicKey
      : EMPTY;
    const noise = this.#hs.writeMessage(payload);
    const out = new Uint8Array(1 + noise.length);
    out[0] = this.kind;
    out.set(noise, 1);
    return out;
  }

  /**
   * Stage 2: the responder's message 2. Returns the established session and,
   * for XX, message 3 to send.
   */
  receive(
    message: Uint8Array,
  ): { reply?: Uint8Array; established: Established } {
    try {
      const payload = this.#hs.readMessage(message);
      let remoteIdentity = this.#options.remoteIdentity;
      let reply: Uint8Array | undefined;
      if (this.kind === KIND_XX) {
        remoteIdentity = checkIdentity(payload, this.#hs.remoteStatic);
        reply = this.#hs.writeMessage(this.#options.identity.ed25519.publicKey);
      }
      return {
        reply,
        established: {
          transport: new NoiseTransport(
            this.#hs.split(),
            this.#options.transport,
          ),
          remoteIdentity: remoteIdentity!.slice(),
        },
      };
    } catch (error) {
      this.#hs.destroy();
      throw error;
    }
  }

  destroy(): void {
    this.#hs.destroy();
  }
}

export class PeerResponder {
  #crypto: CryptoProvider;
  #options: PeerHandshakeOptions;
  #hs: HandshakeState | null = null;

  constructor(crypto: CryptoProvider, options: PeerHandshakeOptions) {
    this.#crypto = crypto;
    this.#options = options;
  }

  /**
   * Stage 1: an initiation (already past the cookie check). IK establishes
   * at once; XX returns message 2 and waits for `finish`.
   */
  receive(
    message: Uint8Array,
  ): { reply: Uint8Array; established?: Established } {
    const kind = message[0];
    if (this.#hs !== null || (kind !== KIND_IK && kind !== KIND_XX)) {
      throw new NoiseError("unexpected-message", `Initiation kind "${kind}"`);
    }
    const hs = new HandshakeState(
      this.#crypto,
      kind === KIND_IK ? IK_PROTOCOL : XX_PROTOCOL,
      {
        initiator: false,
        prologue: this.#options.prologue,
        s: this.#options.identity.x25519,
        staticStatic: this.#options.identity.staticStatic,
      },
    );
    this.#hs = hs;
    try {
      const payload = hs.readMessage(message.subarray(1));
      if (kind === KIND_XX) {
        return {
          reply: hs.writeMessage(this.#options.identity.ed25519.publicKey),
        };
      }
      const remoteIdentity = checkIdentity(payload, hs.remoteStatic);
      const reply = hs.writeMessage(EMPTY);
      return { reply, established: this.#establish(remoteIdentity) };
    } catch (error) {
      hs.destroy();
      throw error;
    }
  }

  /** Stage 2 (XX only): message 3, carrying the initiator's identity. */
  finish(message: Uint8Array): Established {
    const hs = this.#hs;
    if (hs === null || hs.complete || hs.ourTurn) {
      throw new NoiseError("unexpected-message", "Not expecting message 3");
    }
    try {
      const payload = hs.readMessage(message);
      return this.#establish(checkIdentity(payload, hs.remoteStatic));
    } catch (error) {
      hs.destroy();
      throw error;
    }
  }

  destroy(): void {
    this.#hs?.destroy();
  }

  #establish(remoteIdentity: Uint8Array): Established {
    return {
      transport: new NoiseTransport(this.#hs!.split(), this.#options.transport),
      remoteIdentity,
    };
  }
}
