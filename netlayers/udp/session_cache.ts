/**
 * The per-peer secret of the UDP netlayer and the CapTP connections it
 * carries (README "UDP netlayer"). A handshake (handshake.ts) leaves two
 * peers with data keys and each other's session hashcode; that pair is a
 * `PeerLink`, cached by the endpoint for the idle time, and every CapTP
 * connection between the two peers while it lives runs over its one
 * UdpChannel, so a peer that comes back within the idle time pays no
 * handshake.
 *
 * Connection markers: each message object in the channel opens with five
 * bytes, so connections over one link are told apart and their ends reach
 * the peer:
 *
 *   offset size field
 *   0      1    marker: 1 = open, 2 = data, 3 = close; bit 0x80 set when the
 *               sender of this message opened the connection
 *   1      4    connection number, chosen by whoever opened it (1, 2, ...)
 *   5      n    data: the CapTP message object; close: nothing
 *
 * The opener bit gives each side its own number space, so both may open
 * connections at once. An open makes the receiver call `onAccept` (past
 * MAX_ACCEPTED_CONNECTIONS open ones, answer with a close instead); data for
 * a connection that is not open (closed here already) is dropped; a close
 * ends the connection at the receiver without an answer. The channel
 * delivers in order, so no marker overtakes another.
 *
 * NAT rebinding: the link's address moves only after the channel reports a
 * datagram authentic (its AEAD passed and it was no replay) and only for
 * the highest packet number yet, as QUIC migrates (RFC 9000, section 9.3):
 * a datagram an on-path attacker withheld and forwards from elsewhere after
 * newer ones arrived does not move the session.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { Registry } from "../../protocol/registry.ts";
import { ConnectionClosedError } from "../errors.ts";
import { addressKey, type UdpAddress } from "./address.ts";
import { UdpChannel } from "./channel.ts";
import type { DataKeys } from "./handshake.ts";
import { resolveDataOptions, type UdpDataOptions } from "./options.ts";
import { peekPacketNumber } from "./wire.ts";

/** One CapTP connection over a cached per-peer secret. */
export interface UdpSession {
  /** The peer's authenticated Ed25519 public key. */
  readonly remoteKey: Uint8Array;
  /** Where the peer is now; follows NAT rebinding. */
  readonly remoteAddress: UdpAddress;
  readonly outbound: boolean;
  /** One whole message object; RangeError over the message limit. */
  send(message: Uint8Array): void;
  /** Starts delivery, replaying what arrived before. Once per session. */
  attach(events: {
    message(bytes: Uint8Array): void;
    close(reason?: Error): void;
  }): void;
  /** Ends this connection; the per-peer secret stays cached. */
  close(reason?: Error): void;
}

export const MARKER_LENGTH = 5;
/**
 * Connections the peer may hold open over one link at once. An open costs
 * the peer five bytes and us a connection (and a CapTP session above it),
 * so without a bound one authenticated peer could open billions.
 */
export const MAX_ACCEPTED_CONNECTIONS = 256;
const OPEN = 1;
const DATA = 2;
const CLOSE = 3;
const BY_SENDER = 0x80;
const DELIVER = Symbol("deliver");
const END = Symbol("end");

export interface PeerLinkOptions {
  clock: Clock;
  crypto: CryptoProvider;
  registry: Registry;
  localCode: number;
  remoteCode: number;
  keys: DataKeys;
  remoteKey: Uint8Array;
  address: UdpAddress;
  data: Partial<UdpDataOptions>;
  sendTo(bytes: Uint8Array, to: UdpAddress): void;
  onAccept(session: UdpSession): void;
  /** The channel failed (the peer went silent with work pending). */
  onFailed(error: Error): void;
}

export class PeerLink {
  readonly localCode: number;
  readonly remoteKey: Uint8Array;
  address: UdpAddress;
  rebinds = 0;
  /** Authentic datagrams whose markers made no sense (a buggy peer). */
  badMarkers = 0;
  /** Opens refused at MAX_ACCEPTED_CONNECTIONS. */
  refused = 0;
  #channel: UdpChannel;
  #onAccept: (session: UdpSession) => void;
  #limit: number;
  #mine = new Map<number, UdpConnection>();
  #theirs = new Map<number, UdpConnection>();
  #nextId = 1;
  #ended = false;

  constructor(options: PeerLinkOptions) {
    this.localCode = options.localCode;
    this.remoteKey = options.remoteKey;
    this.address = options.address;
    this.#onAccept = options.onAccept;
    this.#limit = resolveDataOptions(options.data).maxMessageBytes -
      MARKER_LENGTH;
    this.#channel = new UdpChannel({
      clock: options.clock,
      crypto: options.crypto,
      registry: options.registry,
      localSession: options.localCode,
      remoteSession: options.remoteCode,
      sendKey: options.keys.send,
      receiveKey: options.keys.receive,
      sendDatagram: (bytes) => options.sendTo(bytes, this.address),
      onMessage: (message) => this.#onMessage(message),
      onClosed: (error) => {
        if (!this.#ended) options.onFailed(error);
      },
      options: options.data,
    });
  }

  /** Clock time of the last authentic datagram from the peer. */
  get lastHeardAt(): number {
    return this.#channel.lastHeardAt;
  }

  get connections(): number {
    return this.#mine.size + this.#theirs.size;
  }

  /** True when authentic; the newest authentic datagram from elsewhere rebinds. */
  receive(datagram: Uint8Array, from: UdpAddress): boolean {
    if (!this.#channel.receiveAuthentic(datagram)) return false;
    if (
      addressKey(from) !== addressKey(this.address) &&
      peekPacketNumber(datagram) === this.#channel.topPacketNumber
    ) {
      this.address = from;
      this.rebinds++;
    }
    return true;
  }

  flush(): void {
    this.#channel.flush();
  }

  /** Opens an outbound connection; `acked` settles when the peer has it. */
  open(): { session: UdpSession; acked: Promise<void> } {
    const id = this.#nextId;
    this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
    const session = new UdpConnection(this, id, true);
    this.#mine.set(id, session);
    const acked = this.#send(OPEN | BY_SENDER, id);
    // The dialer's first connection drops `acked`: a channel that fails
    // (peer silent) must not leave an unhandled rejection behind.
    acked.catch(() => {});
    return { session, acked };
  }

  /** Ends every connection with `reason` and the channel; idempotent. */
  end(reason?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    const all = [...this.#mine.values(), ...this.#theirs.values()];
    this.#mine.clear();
    this.#theirs.clear();
    for (const connection of all) connection[END](reason);
    this.#channel.close();
  }

  /** Called by a connection: sends a marker, with `body` for data. */
  sendFor(
    connection: UdpConnection,
    kind: "data" | "close",
    body?: Uint8Array,
  ): void {
    if (kind === "data" && body!.length > this.#limit) {
      throw new RangeError(
        `Message of "${body!.length}" bytes is over the limit ${this.#limit}`,
      );
    }
    const marker = (kind === "data" ? DATA : CLOSE) |
      (connection.outbound ? BY_SENDER : 0);
    if (kind === "close") {
      (connection.outbound ? this.#mine : this.#theirs).delete(connection.id);
    }
    if (!this.#ended) this.#send(marker, connection.id, body).catch(() => {});
  }

  #send(marker: number, id: number, body?: Uint8Array): Promise<void> {
    const bytes = new Uint8Array(MARKER_LENGTH + (body?.length ?? 0));
    bytes[0] = marker;
    new DataView(bytes.buffer).setUint32(1, id);
    if (body !== undefined) bytes.set(body, MARKER_LENGTH);
    return this.#channel.send(bytes);
  }

  #onMessage(message: Uint8Array): void {
    if (message.length < MARKER_LENGTH) return void this.badMarkers++;
    const kind = message[0] & 0x7f;
    const bySender = (message[0] & BY_SENDER) !== 0;
    const id = new DataView(message.buffer, message.byteOffset).getUint32(1);
    const map = bySender ? this.#theirs : this.#mine;
    const connection = map.get(id);
    if (kind === OPEN && bySender && connection === undefined) {
      if (this.#theirs.size >= MAX_ACCEPTED_CONNECTIONS) {
        // Refused with a close, so the opener's connection ends too.
        this.#send(CLOSE, id).catch(() => {});
        return void this.refused++;
      }
      const accepted = new UdpConnection(this, id, false);
      this.#theirs.set(id, accepted);
      this.#onAccept(accepted);
    } else if (kind === DATA && connection !== undefined) {
      connection[DELIVER](message.subarray(MARKER_LENGTH));
    } else if (kind === CLOSE && connection !== undefined) {
      map.delete(id);
      connection[END](new ConnectionClosedError("Peer closed the connection"));
    } else if (kind !== DATA && kind !== CLOSE) {
      this.badMarkers++;
    }
  }
}

type Events = Parameters<UdpSession["attach"]>[0];

class UdpConnection implements UdpSession {
  readonly outbound: boolean;
  readonly id: number;
  #link: PeerLink;
  #events: Events | undefined;
  #queue: Uint8Array[] = [];
  #ended = false;
  #endReason: Error | undefined;
  #reported = false;
  #closedHere = false;

  constructor(link: PeerLink, id: number, outbound: boolean) {
    this.#link = link;
    this.id = id;
    this.outbound = outbound;
  }

  get remoteKey(): Uint8Array {
    return this.#link.remoteKey;
  }

  get remoteAddress(): UdpAddress {
    return this.#link.address;
  }

  send(message: Uint8Array): void {
    if (this.#ended) return;
    this.#link.sendFor(this, "data", message);
  }

  attach(events: Events): void {
    if (this.#events !== undefined) {
      throw new TypeError("Session is already attached");
    }
    this.#events = events;
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) this.#dispatch(message);
    if (this.#ended) this.#report();
  }

  close(reason?: Error): void {
    if (this.#ended) return;
    this.#closedHere = true;
    this.#link.sendFor(this, "close");
    this[END](reason);
  }

  [DELIVER](message: Uint8Array): void {
    if (this.#ended) return;
    if (this.#events === undefined) return void this.#queue.push(message);
    this.#dispatch(message);
  }

  /** A handler that throws closes the connection (netlayers/types.ts). */
  #dispatch(message: Uint8Array): void {
    if (this.#closedHere) return;
    try {
      this.#events!.message(message);
    } catch (error) {
      this.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  [END](reason: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    if (this.#events !== undefined) this.#report();
  }

  #report(): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#events!.close(this.#endReason);
  }
}
