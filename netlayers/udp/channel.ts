/**
 * One session's data plane (README "UDP netlayer"): the sealed-datagram
 * protocol between two peers that already share per-direction keys (from the
 * Noise handshake) and know each other's session hashcode.
 *
 * It is pure: datagrams come in through `receive()`, go out through the
 * injected `sendDatagram`, and time comes from the injected Clock, so tests
 * drive two channels over a simulated lossy link with no sockets or sleeps.
 *
 * Inbound order of checks, cheapest first, so garbage costs no crypto:
 * length and reserved bits, session hashcode, replay window, header
 * consistency and buffer limits, then the AEAD; only an authentic datagram
 * moves the replay window, counts as hearing from the peer, and is acked.
 *
 * Acks are grouped: they wait until the owner calls `flush()` (its input
 * queue drained), `ackEvery` ack-eliciting datagrams arrived, or
 * `maxAckDelay` passed. Heartbeats (pings) go out only while there is
 * outstanding work; a peer silent for `silentPeerTimeout` while there is
 * work fails every pending message and the channel.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { Registry } from "../../protocol/registry.ts";
import { PeerSilentError, SessionClosedError } from "./errors.ts";
import { resolveDataOptions, type UdpDataOptions } from "./options.ts";
import { Reassembly, type ReassemblyStats } from "./reassembly.ts";
import { ReplayWindow } from "./replay.ts";
import { Sender, type SenderStats } from "./sender.ts";
import {
  CONTROL_HEADER_LENGTH,
  DATA_HEADER_LENGTH,
  DatagramType,
  decodeAckBody,
  maxAckRanges,
  NONCE_LENGTH,
  nonceFrom,
  peekPacketNumber,
  peekSession,
  peekType,
  readDataHeader,
  TAG_LENGTH,
} from "./wire.ts";

export interface ChannelOptions {
  clock: Clock;
  crypto: CryptoProvider;
  registry: Registry;
  /** Our registry hashcode for this session: inbound datagrams carry it. */
  localSession: number;
  /** The peer's hashcode: outbound datagrams carry it. */
  remoteSession: number;
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  sendDatagram: (bytes: Uint8Array) => void;
  /** Complete message objects, in order. */
  onMessage: (message: Uint8Array) => void;
  /** Once, when the channel ends; `error` is set when it failed. */
  onClosed?: (error: Error) => void;
  options?: Partial<UdpDataOptions>;
}

export interface ChannelCounters {
  received: number;
  replayed: number;
  tampered: number;
  malformed: number;
  misrouted: number;
  refused: number;
  keepalives: number;
  acksSent: number;
}

export interface ChannelStats extends ChannelCounters {
  sender: SenderStats;
  reassembly: ReassemblyStats;
  srtt: number;
  rto: number;
}

export class UdpChannel {
  #clock: Clock;
  #crypto: CryptoProvider;
  #local: number;
  #receiveKey: Uint8Array;
  #o: UdpDataOptions;
  #sender: Sender;
  #reassembly: Reassembly;
  #replay = new ReplayWindow(64);
  #nonce = new Uint8Array(NONCE_LENGTH);
  #onMessage: (message: Uint8Array) => void;
  #onClosed: ((error: Error) => void) | undefined;
  #ackPending = 0;
  #topReceivedAt = 0;
  #cancelAck: (() => void) | undefined;
  #cancelWatch: (() => void) | undefined;
  #workSince: number | undefined;
  #lastHeardAt: number;
  #closed = false;
  #counters: ChannelCounters = {
    received: 0,
    replayed: 0,
    tampered: 0,
    malformed: 0,
    misrouted: 0,
    refused: 0,
    keepalives: 0,
    acksSent: 0,
  };

  constructor(options: ChannelOptions) {
    this.#clock = options.clock;
    this.#crypto = options.crypto;
    this.#local = options.localSession;
    this.#receiveKey = options.receiveKey;
    this.#o = resolveDataOptions(options.options);
    this.#onMessage = options.onMessage;
    this.#onClosed = options.onClosed;
    this.#lastHeardAt = this.#clock.now();
    this.#sender = new Sender({
      clock: options.clock,
      crypto: options.crypto,
      key: options.sendKey,
      remoteSession: options.remoteSession,
      sendDatagram: options.sendDatagram,
      options: this.#o,
    });
    this.#reassembly = new Reassembly({
      registry: options.registry,
      clock: options.clock,
      options: this.#o,
      deliver: (message) => this.#onMessage(message),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Unacked sends or incomplete inbound messages. */
  get busy(): boolean {
    return this.#sender.busy || this.#reassembly.busy;
  }

  /** Clock time of the last authentic datagram from the peer. */
  get lastHeardAt(): number {
    return this.#lastHeardAt;
  }

  /** The highest packet number accepted from the peer; -1 before any. */
  get topPacketNumber(): number {
    return this.#replay.top;
  }

  stats(): ChannelStats {
    return {
      ...this.#counters,
      sender: this.#sender.stats(),
      reassembly: this.#reassembly.stats(),
      srtt: this.#sender.rtt.srtt,
      rto: this.#sender.rtt.rto,
    };
  }

  /** Resolves when the peer has acked every fragment of `message`. */
  send(message: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new SessionClosedError("closed"));
    }
    const done = this.#sender.send(message);
    this.#watch();
    return done;
  }

  /** One datagram addressed to this session; never throws on bad bytes. */
  receive(datagram: Uint8Array): void {
    this.receiveAuthentic(datagram);
  }

  /**
   * `receive`, returning true when the datagram was authentic (AEAD
   * passed, not a replay): the owner may then trust its source address
   * (NAT rebinding).
   */
  receiveAuthentic(datagram: Uint8Array): boolean {
    if (this.#closed) return false;
    const before = this.#counters.received;
    this.#receive(datagram);
    return this.#counters.received !== before;
  }

  #receive(datagram: Uint8Array): void {
    const c = this.#counters;
    const type = peekType(datagram);
    if (type === undefined) return void c.malformed++;
    if (peekSession(datagram) !== this.#local) return void c.misrouted++;
    const pn = peekPacketNumber(datagram);
    if (!this.#replay.check(pn)) return void c.replayed++;
    if (type === DatagramType.data) {
      const header = readDataHeader(datagram, this.#o.maxMessageBytes);
      if (header === undefined) return void c.malformed++;
      if (!this.#reassembly.admits(header)) return void c.refused++;
      const plain = this.#open(datagram, DATA_HEADER_LENGTH);
      if (plain === null) return void c.tampered++;
      this.#heard(pn);
      this.#reassembly.offer(header, plain);
      this.#ackEliciting();
      this.#watch();
    } else if (type === DatagramType.ping) {
      if (this.#open(datagram, CONTROL_HEADER_LENGTH) === null) {
        return void c.tampered++;
      }
      this.#heard(pn);
      this.#ackEliciting();
    } else if (type === DatagramType.ack) {
      const body = this.#open(datagram, CONTROL_HEADER_LENGTH);
      if (body === null) return void c.tampered++;
      this.#heard(pn);
      let ack;
      try {
        ack = decodeAckBody(body);
      } catch {
        return void c.malformed++;
      }
      this.#sender.onAck(ack);
    } else {
      c.malformed++;
    }
  }

  /** The owner's input queue drained: send the grouped ack now. */
  flush(): void {
    if (this.#ackPending > 0 && !this.#closed) this.#sendAck();
  }

  /** Ends the channel; pending sends reject with SessionClosedError. */
  close(reason = "closed"): void {
    this.#end(new SessionClosedError(reason));
  }

  #end(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelAck?.();
    this.#cancelWatch?.();
    this.#cancelAck = this.#cancelWatch = undefined;
    this.#sender.fail(error);
    this.#reassembly.close();
    this.#receiveKey.fill(0);
    this.#onClosed?.(error);
  }

  #open(datagram: Uint8Array, headerLength: number): Uint8Array | null {
    if (datagram.length < headerLength + TAG_LENGTH) return null;
    nonceFrom(datagram, this.#nonce);
    return this.#crypto.aead.open(
      this.#receiveKey,
      this.#nonce,
      datagram.subarray(headerLength),
      datagram.subarray(0, headerLength),
    );
  }

  #heard(pn: number): void {
    this.#replay.accept(pn);
    this.#counters.received++;
    const now = this.#clock.now();
    this.#lastHeardAt = now;
    if (pn === this.#replay.top) this.#topReceivedAt = now;
  }

  #ackEliciting(): void {
    if (++this.#ackPending >= this.#o.ackEvery) return this.#sendAck();
    if (this.#cancelAck === undefined) {
      this.#cancelAck = this.#clock.schedule(
        this.#clock.now() + this.#o.maxAckDelay,
        () => {
          this.#cancelAck = undefined;
          if (this.#ackPending > 0 && !this.#closed) this.#sendAck();
        },
      );
    }
  }

  #sendAck(): void {
    this.#cancelAck?.();
    this.#cancelAck = undefined;
    this.#ackPending = 0;
    const bodyMax = this.#o.minDatagramSize - CONTROL_HEADER_LENGTH -
      TAG_LENGTH;
    const ranges = this.#replay.ranges(
      this.#o.ackHistory,
      maxAckRanges(bodyMax),
    );
    const delay = this.#clock.now() - this.#topReceivedAt;
    this.#counters.acksSent++;
    this.#sender.sendAck({ delayMicros: Math.round(delay * 1000), ranges });
  }

  /**
   * Arms the one watchdog timer while there is work: it sends heartbeats
   * and enforces the silent-peer deadline. When idle it disarms itself, so
   * an idle session sends nothing.
   */
  #watch(): void {
    if (this.#cancelWatch !== undefined || this.#closed) return;
    if (!this.busy) return;
    const now = this.#clock.now();
    this.#workSince ??= now;
    const silentBase = Math.max(this.#lastHeardAt, this.#workSince);
    const at = Math.min(
      Math.max(now + 1, this.#sender.lastSentAt + this.#o.keepaliveInterval),
      silentBase + this.#o.silentPeerTimeout,
    );
    this.#cancelWatch = this.#clock.schedule(at, this.#onWatch);
  }

  #onWatch = (): void => {
    this.#cancelWatch = undefined;
    if (this.#closed) return;
    if (!this.busy) {
      this.#workSince = undefined;
      return;
    }
    const now = this.#clock.now();
    const silentBase = Math.max(this.#lastHeardAt, this.#workSince ?? now);
    if (now - silentBase >= this.#o.silentPeerTimeout) {
      return this.#end(new PeerSilentError(now - this.#lastHeardAt));
    }
    if (now - this.#sender.lastSentAt >= this.#o.keepaliveInterval) {
      this.#counters.keepalives++;
      this.#sender.sendPing();
    }
    this.#watch();
  };
}
