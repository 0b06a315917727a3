/**
 * The two roles of the UDP handshake (handshake.ts has the datagram layout
 * and why there are three flights): the dialer's InitiatorHandshake and the
 * responder's half-open ResponderHandshake. They wrap the Noise roles of
 * netlayers/noise/peer_handshake.ts and add the session codes and the
 * secret that becomes the per-peer data keys.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
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
   * bad one spoils the Noise state, so a fresh ephemeral is drawn and the
   * next retransmission starts over.
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
  }

  #restart(): void {
    this.#peer?.destroy();
    this.#peer = new PeerInitiator(this.#crypto, {
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
  #peer: PeerResponder;
  #reply: Uint8Array;
  #transport: NoiseTransport | undefined;
  #remoteKey: Uint8Array | undefined;
  response: Uint8Array | undefined;

  /** Throws (a NoiseError) when the initiation does not decrypt. */
  constructor(
    crypto: CryptoProvider,
    options: { identity: NoiseIdentity; initiation: Uint8Array },
  ) {
    const d = options.initiation;
    this.#crypto = crypto;
    this.kind = d[8];
    this.initiatorCode = u32(d, 4);
    this.#peer = new PeerResponder(crypto, {
      identity: options.identity,
      prologue: UDP_PROLOGUE,
    });
    const { reply, established } = this.#peer.receive(
      d.subarray(8, 8 + NOISE_1[this.kind]),
    );
    this.#reply = reply;
    this.#transport = established?.transport;
    this.#remoteKey = established?.remoteIdentity;
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
   * is not authentic. Either way the Noise state is spent afterwards.
   */
  confirm(
    datagram: Uint8Array,
    localCode: number,
  ): { keys: DataKeys; remoteKey: Uint8Array } | undefined {
    const n3 = NOISE_3[this.kind];
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
      return { keys, remoteKey: this.#remoteKey! };
    } catch {
      return undefined;
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.#peer.destroy();
    this.#transport?.close();
  }
}
