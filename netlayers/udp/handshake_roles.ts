/**
 * The two roles of the UDP handshake (handshake.ts has the datagram layout
 * and why there are three flights): the dialer's InitiatorHandshake and the
 * responder's half-open ResponderHandshake. They wrap the Noise roles of
 * netlayers/noise/peer_handshake.ts and add the session codes and the
 * secret that becomes the per-peer data keys.
 *
 * A handshake datagram that fails Noise (forged, or a damaged copy that
 * overtook the real one) spoils the Noise state it was read into. Each
 * role pins its ephemeral key (`PinnedEphemeral`) and rebuilds that state
 * from its own first message, so the real datagram arriving next still
 * completes the handshake: one injected datagram neither costs the dialer
 * a round trip nor ends the responder's half-open.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider, KeyPair } from "../../protocol/crypto.ts";
import { ed25519PublicToX25519 } from "../../protocol/ed25519_to_x25519.ts";
import { CookieInitiator } from "../noise/cookie.ts";
import {
  KIND_XX,
  type NoiseIdentity,
  PeerInitiator,
  PeerResponder,
} from "../noise/peer_handshake.ts";
import type { NoiseTransport } from "../noise/transport.ts";
import {
  ANONYMOUS_KEY,
  concat,
  COOKIE_DATAGRAM_LENGTH,
  type DataKeys,
  deriveDataKeys,
  header,
  INITIATION_BODY,
  NOISE_1,
  NOISE_2,
  NOISE_3,
  peekSender,
  RECORD_LENGTH,
  RESPONSE_HEADER_LENGTH,
  u32,
  UDP_PROLOGUE,
} from "./handshake.ts";
import { DatagramType } from "./wire.ts";

export interface Confirmed {
  readonly keys: DataKeys;
  /** The peer's authenticated Ed25519 key. */
  readonly remoteKey: Uint8Array;
  readonly remoteCode: number;
  /** The type-2 confirmation to send (and resend until the peer is heard). */
  readonly confirmation: Uint8Array;
}

/** The dialer's side: initiation, cookie, response, confirmation. */
export class InitiatorHandshake {
  readonly localCode: number;
  #crypto: CryptoProvider;
  #identity: NoiseIdentity;
  #remoteKey: Uint8Array | undefined;
  #cookie: CookieInitiator;
  #pinned: PinnedEphemeral;
  #peer!: PeerInitiator;
  #body!: Uint8Array;

  constructor(
    crypto: CryptoProvider,
    options: {
      clock: Clock;
      identity: NoiseIdentity;
      remoteKey?: Uint8Array;
      localCode: number;
    },
  ) {
    this.#crypto = crypto;
    this.#pinned = new PinnedEphemeral(crypto);
    this.#identity = options.identity;
    this.#remoteKey = options.remoteKey;
    this.localCode = options.localCode;
    this.#cookie = new CookieInitiator(crypto, {
      clock: options.clock,
      remoteStaticPublicKey: options.remoteKey
        ? ed25519PublicToX25519(options.remoteKey)
        : ANONYMOUS_KEY,
    });
    this.#restart();
  }

  /** The initiation, stamped (with mac2 while a fresh cookie is held). */
  initiation(): Uint8Array {
    return this.#cookie.stamp(this.#body);
  }

  /** A type-3 datagram; true when it held a cookie for our last initiation. */
  acceptCookie(datagram: Uint8Array): boolean {
    return datagram.length === COOKIE_DATAGRAM_LENGTH &&
      this.#cookie.receiveReply(datagram.subarray(8));
  }

  /**
   * A type-2 response. Undefined when it is malformed or not authentic; a
   * bad one spoils the Noise state, which is rebuilt with the same
   * ephemeral, so the initiation stays valid and the real response, when
   * it comes, still completes.
   */
  respond(datagram: Uint8Array): Confirmed | undefined {
    const kind = this.#peer.kind;
    if (datagram.length !== RESPONSE_HEADER_LENGTH + NOISE_2[kind]) return;
    const remoteCode = peekSender(datagram);
    let transport: NoiseTransport | undefined;
    try {
      const { reply, established } = this.#peer.receive(
        datagram.subarray(RESPONSE_HEADER_LENGTH),
      );
      transport = established.transport;
      const secret = this.#crypto.randomBytes(32);
      const record = transport.seal(
        concat(secret, header(0, [this.localCode, remoteCode]).subarray(4)),
      );
      const keys = deriveDataKeys(this.#crypto, secret, {
        handshakeHash: transport.handshakeHash,
        initiator: true,
      });
      secret.fill(0);
      this.#pinned.wipe();
      const confirmation = concat(
        header(DatagramType.handshakeResponse, [remoteCode, this.localCode]),
        reply ?? new Uint8Array(0),
        record,
      );
      return {
        keys,
        remoteKey: established.remoteIdentity,
        remoteCode,
        confirmation,
      };
    } catch {
      this.#restart();
      return undefined;
    } finally {
      transport?.close();
    }
  }

  destroy(): void {
    this.#peer.destroy();
    this.#pinned.wipe();
  }

  #restart(): void {
    this.#peer?.destroy();
    this.#peer = new PeerInitiator(this.#pinned.crypto, {
      identity: this.#identity,
      remoteIdentity: this.#remoteKey,
      prologue: UDP_PROLOGUE,
    });
    const body = new Uint8Array(INITIATION_BODY);
    body.set(header(DatagramType.handshakeInitiation, [this.localCode]));
    body.set(this.#peer.start(), 8);
    this.#body = body;
  }
}

/**
 * The responder's half-open state: built from an initiation that passed the
 * gate (this is where the public-key work happens), it holds the response
 * for retransmitted initiations and waits for the confirmation.
 */
export class ResponderHandshake {
  readonly kind: number;
  readonly initiatorCode: number;
  #crypto: CryptoProvider;
  #identity: NoiseIdentity;
  #pinned: PinnedEphemeral;
  #noise1: Uint8Array;
  #peer!: PeerResponder;
  #reply!: Uint8Array;
  #transport: NoiseTransport | undefined;
  #remoteKey: Uint8Array | undefined;
  #failures = 0;
  #spent = false;
  response: Uint8Array | undefined;

  /** Throws (a NoiseError) when the initiation does not decrypt. */
  constructor(
    crypto: CryptoProvider,
    options: { identity: NoiseIdentity; initiation: Uint8Array },
  ) {
    const d = options.initiation;
    this.#crypto = crypto;
    this.#identity = options.identity;
    this.#pinned = new PinnedEphemeral(crypto);
    this.kind = d[8];
    this.initiatorCode = u32(d, 4);
    this.#noise1 = d.slice(8, 8 + NOISE_1[this.kind]);
    try {
      this.#build();
    } catch (error) {
      this.#pinned.wipe();
      throw error;
    }
  }

  /**
   * True once the half-open can confirm no more: it confirmed, or
   * `MAX_FAILED_CONFIRMATIONS` forged ones each cost a rebuild (public-key
   * work, so bounded), or it was destroyed.
   */
  get spent(): boolean {
    return this.#spent;
  }

  /** Frames the response once our session code exists. */
  frame(localCode: number): Uint8Array {
    this.response = concat(
      header(DatagramType.handshakeResponse, [this.initiatorCode, localCode]),
      this.#reply,
    );
    return this.response;
  }

  /** Cheap shape check of a confirmation: length and sender code. */
  confirmable(datagram: Uint8Array): boolean {
    return datagram.length ===
        RESPONSE_HEADER_LENGTH + NOISE_3[this.kind] + RECORD_LENGTH &&
      peekSender(datagram) === this.initiatorCode;
  }

  /**
   * The initiator's confirmation (already `confirmable`); undefined when it
   * is not authentic, and then the Noise state is rebuilt for the real one
   * unless the half-open is `spent`.
   */
  confirm(
    datagram: Uint8Array,
    localCode: number,
  ): { keys: DataKeys; remoteKey: Uint8Array } | undefined {
    if (this.#spent) return undefined;
    const n3 = NOISE_3[this.kind];
    let confirmed = false;
    try {
      if (this.kind === KIND_XX) {
        const established = this.#peer.finish(datagram.subarray(12, 12 + n3));
        this.#transport = established.transport;
        this.#remoteKey = established.remoteIdentity;
      }
      const plain = this.#transport!.open(datagram.subarray(12 + n3));
      if (
        plain.length !== 40 || u32(plain, 32) !== this.initiatorCode ||
        u32(plain, 36) !== localCode
      ) return;
      const keys = deriveDataKeys(this.#crypto, plain.subarray(0, 32), {
        handshakeHash: this.#transport!.handshakeHash,
        initiator: false,
      });
      plain.fill(0);
      confirmed = true;
      return { keys, remoteKey: this.#remoteKey! };
    } catch {
      return undefined;
    } finally {
      if (confirmed || ++this.#failures >= MAX_FAILED_CONFIRMATIONS) {
        this.destroy();
      } else this.#rebuild();
    }
  }

  destroy(): void {
    this.#spent = true;
    this.#peer.destroy();
    this.#transport?.close();
    this.#pinned.wipe();
  }

  /** Reads the initiation into a fresh Noise state (pinned ephemeral). */
  #build(): void {
    this.#peer = new PeerResponder(this.#pinned.crypto, {
      identity: this.#identity,
      prologue: UDP_PROLOGUE,
    });
    const { reply, established } = this.#peer.receive(this.#noise1);
    this.#reply = reply;
    this.#transport = established?.transport;
    this.#remoteKey = established?.remoteIdentity;
  }

  #rebuild(): void {
    this.#peer.destroy();
    this.#transport?.close();
    try {
      this.#build();
    } catch {
      this.destroy();
    }
  }
}

/** Forged confirmations one half-open absorbs before it is dropped. */
export const MAX_FAILED_CONFIRMATIONS = 4;

/**
 * `crypto` whose X25519 key generation returns one key pair, drawn on
 * first use and copied out each time (a Noise state zeroes its ephemeral
 * when destroyed), so a spoiled Noise state is rebuilt exactly as it was.
 */
class PinnedEphemeral {
  readonly crypto: CryptoProvider;
  #pair: KeyPair | undefined;

  constructor(crypto: CryptoProvider) {
    const x = crypto.x25519;
    const copy = (p: KeyPair) => ({
      publicKey: p.publicKey.slice(),
      secretKey: p.secretKey.slice(),
    });
    this.crypto = Object.create(crypto, {
      x25519: {
        value: {
          generateKeyPair: () => copy(this.#pair ??= copy(x.generateKeyPair())),
          publicKey: (secret: Uint8Array) => x.publicKey(secret),
          sharedSecret: (secret: Uint8Array, peer: Uint8Array) =>
            x.sharedSecret(secret, peer),
        },
      },
    });
  }

  /** Zeroes the pinned secret; the next generation draws a new pair. */
  wipe(): void {
    this.#pair?.secretKey.fill(0);
    this.#pair = undefined;
  }
}
