/**
 * The outbound half of a UDP session (README "UDP netlayer"): message objects
 * split into fragments (wire.ts), each sealed alone with a fresh packet
 * number as nonce, sent under a bounded window with pacing, and kept until
 * the peer acks them.
 *
 * Loss recovery follows QUIC's shape (RFC 9002) more than TCP's: a
 * retransmitted fragment gets a new packet number, so every ack is
 * unambiguous and each one gives an RTT sample for RFC 6298 (rtt.ts).
 * A packet is lost when one `reorderThreshold` numbers newer is acked, or
 * when the retransmission timeout fires; the timeout also sends a ping probe.
 * If large datagrams keep being lost while the small probes are acked, the
 * path drops big datagrams (a PMTU black hole): the datagram size halves and
 * unfinished messages are split again (the receiver keeps the larger count).
 *
 * Every outbound datagram of the session, acks and pings included, leaves
 * through here, so one packet-number counter serves the whole direction.
 * This module deals in packets; which fragments of which messages are still
 * wanted, and in what order they go, is send_queue.ts's business.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import { RttEstimator } from "./rtt.ts";
import type { UdpDataOptions } from "./options.ts";
import { DatagramSealer } from "./sealer.ts";
import { type Fragment, type OutMessage, SendQueue } from "./send_queue.ts";
import { type AckBody, DatagramType, encodeAckBody } from "./wire.ts";

export interface SenderOptions {
  clock: Clock;
  crypto: CryptoProvider;
  /** This direction's ChaCha20-Poly1305 key. */
  key: Uint8Array;
  /** The peer's registry hashcode for this session. */
  remoteSession: number;
  sendDatagram: (bytes: Uint8Array) => void;
  options: UdpDataOptions;
}

export interface SenderStats {
  datagramsSent: number;
  retransmissions: number;
  probes: number;
  halvings: number;
  datagramSize: number;
}

interface Sent {
  readonly message: OutMessage | undefined; // undefined: a ping
  readonly index: number;
  readonly count: number;
  readonly sentAt: number;
  readonly large: boolean;
}

export class Sender {
  #clock: Clock;
  #sealer: DatagramSealer;
  #emit: (bytes: Uint8Array) => void;
  #o: UdpDataOptions;
  #rtt: RttEstimator;
  #queue: SendQueue;
  #inFlight = new Map<number, Sent>();
  #inFlightData = 0;
  #largestAcked = -1;
  #largeLost = 0;
  #probesAcked = 0;
  #tokens: number;
  #refilledAt: number;
  #cancelRto: (() => void) | undefined;
  #rtoAt = 0;
  #cancelPace: (() => void) | undefined;
  #closed = false;
  #lastSentAt = -Infinity;
  #stats = { datagramsSent: 0, retransmissions: 0, probes: 0, halvings: 0 };

  constructor(options: SenderOptions) {
    this.#clock = options.clock;
    this.#sealer = new DatagramSealer(options.crypto, options);
    this.#emit = options.sendDatagram;
    this.#o = options.options;
    this.#queue = new SendQueue(this.#o);
    this.#rtt = new RttEstimator(this.#o);
    this.#tokens = this.#o.pacingBurst;
    this.#refilledAt = this.#clock.now();
  }

  get rtt(): RttEstimator {
    return this.#rtt;
  }

  /** Unacked messages or fragments: the session has outstanding work. */
  get outstanding(): boolean {
    return this.#queue.outstanding;
  }

  /** Outstanding work, or a ping still waiting for its ack. */
  get busy(): boolean {
    return this.#queue.outstanding || this.#inFlight.size > 0;
  }

  get lastSentAt(): number {
    return this.#lastSentAt;
  }

  stats(): SenderStats {
    return { ...this.#stats, datagramSize: this.#queue.datagramSize };
  }

  /**
   * Queues `bytes` (not copied: do not change them until the promise
   * settles); resolves once every fragment is acked.
   */
  send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new RangeError("Sender is closed"));
    const done = this.#queue.add(bytes);
    this.#pump();
    return done;
  }

  /** An ack-eliciting ping: a keepalive, or a probe when acks stopped. */
  sendPing(): void {
    if (this.#closed) return;
    const pn = this.#sealControl(DatagramType.ping, EMPTY);
    this.#track(pn, { message: undefined, index: 0, count: 0, large: false });
  }

  sendAck(body: AckBody): void {
    if (!this.#closed) this.#sealControl(DatagramType.ack, encodeAckBody(body));
  }

  /**
   * Processes an authenticated ack from the peer in one walk of the
   * in-flight map, which is in packet-number order (numbers are assigned
   * and inserted in increasing order), so the walk stops at the first
   * number that can be neither acked nor lost. Losses are handled after
   * every ack, as a fragment acked under a newer number is not lost.
   */
  onAck(body: AckBody): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const top = body.ranges[0].high;
    if (top < this.#sealer.nextPacketNumber && top > this.#largestAcked) {
      this.#largestAcked = top;
    }
    const lostBelow = this.#largestAcked - this.#o.reorderThreshold + 1;
    let newest: Sent | undefined;
    let lost: number[] | undefined;
    for (const [pn, sent] of this.#inFlight) {
      if (pn > top && pn >= lostBelow) break;
      if (inRanges(pn, body)) {
        this.#forget(pn, sent);
        if (pn === top) newest = sent;
        this.#acked(sent);
      } else if (pn < lostBelow) {
        (lost ??= []).push(pn);
      }
    }
    if (newest !== undefined) {
      this.#rtt.sample(now - newest.sentAt, body.delayMicros / 1000);
    }
    if (lost !== undefined) {
      for (const pn of lost) {
        const sent = this.#inFlight.get(pn);
        if (sent !== undefined) this.#lost(pn, sent);
      }
    }
    this.#maybeHalve();
    this.#queue.settle();
    this.#rearmRto(now);
    this.#pump();
  }

  /** Rejects every unfinished message and stops all timers; idempotent. */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelRto?.();
    this.#cancelPace?.();
    this.#inFlight.clear();
    this.#queue.fail(error);
    this.#sealer.zero();
  }

  #pump(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const rate = this.#o.sendWindow / Math.max(this.#rtt.srtt, 0.05);
    this.#tokens = Math.min(
      this.#o.pacingBurst,
      this.#tokens + (now - this.#refilledAt) * rate,
    );
    this.#refilledAt = now;
    while (this.#inFlightData < this.#o.sendWindow && this.#tokens > 0.999) {
      const fragment = this.#queue.next();
      if (fragment === undefined) return;
      this.#sendFragment(fragment);
      this.#tokens--;
    }
    if (
      this.#inFlightData < this.#o.sendWindow && this.#cancelPace === undefined
    ) {
      // A floor on the wait: sub-microsecond steps vanish in float time.
      const wait = Math.max(MIN_PACING_WAIT, (1 - this.#tokens) / rate);
      this.#cancelPace = this.#clock.schedule(now + wait, () => {
        this.#cancelPace = undefined;
        this.#pump();
      });
    }
  }

  #sendFragment(f: Fragment): void {
    const m = f.message;
    const pn = this.#sealer.nextPacketNumber;
    const start = f.index * m.stride;
    const end = Math.min(m.bytes.length, start + m.stride);
    const datagram = this.#sealer.data({
      sequence: m.sequence,
      index: f.index,
      count: m.count,
      length: m.bytes.length,
    }, m.bytes.subarray(start, end));
    if (f.again) this.#stats.retransmissions++;
    this.#track(pn, {
      message: m,
      index: f.index,
      count: m.count,
      large: datagram.length > this.#queue.datagramSize / 2,
    });
    this.#inFlightData++;
    this.#transmit(datagram);
  }

  #sealControl(type: number, body: Uint8Array): number {
    const pn = this.#sealer.nextPacketNumber;
    this.#transmit(this.#sealer.control(type, body));
    return pn;
  }

  #transmit(datagram: Uint8Array): void {
    this.#stats.datagramsSent++;
    this.#lastSentAt = this.#clock.now();
    this.#emit(datagram);
  }

  #track(pn: number, sent: Omit<Sent, "sentAt">): void {
    this.#inFlight.set(pn, {
      message: sent.message,
      index: sent.index,
      count: sent.count,
      large: sent.large,
      sentAt: this.#clock.now(),
    });
    if (this.#cancelRto === undefined) this.#rearmRto(this.#clock.now());
  }

  #forget(pn: number, sent: Sent): void {
    this.#inFlight.delete(pn);
    if (sent.message !== undefined) this.#inFlightData--;
  }

  #acked(sent: Sent): void {
    const m = sent.message;
    if (m === undefined) {
      this.#probesAcked++;
      return;
    }
    if (sent.large) this.#largeLost = this.#probesAcked = 0;
    this.#queue.acked(m, sent);
  }

  #lost(pn: number, sent: Sent): void {
    this.#forget(pn, sent);
    const m = sent.message;
    if (m === undefined) return;
    if (sent.large) this.#largeLost++;
    this.#queue.lost(m, sent);
  }

  #maybeHalve(): void {
    const o = this.#o;
    if (this.#largeLost < o.halvingLosses || this.#probesAcked < 2) return;
    const size = this.#queue.datagramSize;
    if (size <= o.minDatagramSize) return;
    this.#stats.halvings++;
    this.#largeLost = this.#probesAcked = 0;
    this.#queue.resize(Math.max(o.minDatagramSize, Math.floor(size / 2)));
    for (const [pn, sent] of this.#inFlight) {
      if (sent.message !== undefined) this.#forget(pn, sent);
    }
  }

  /**
   * Keeps one timer at or before the oldest in-flight packet's deadline.
   * An armed timer that fires no later than needed is left alone (acks
   * mostly move the deadline later); firing early finds nothing expired
   * and re-arms. This saves a clearTimeout and setTimeout per ack.
   */
  #rearmRto(now: number): void {
    if (this.#inFlight.size === 0) {
      this.#cancelRto?.();
      this.#cancelRto = undefined;
      return;
    }
    // The first entry is the oldest: sends are inserted in time order.
    const oldest = this.#inFlight.values().next().value!.sentAt;
    const at = Math.max(now, oldest + this.#rtt.rto);
    if (this.#cancelRto !== undefined && this.#rtoAt <= at) return;
    this.#cancelRto?.();
    this.#rtoAt = at;
    this.#cancelRto = this.#clock.schedule(at, this.#onRto);
  }

  #onRto = (): void => {
    this.#cancelRto = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    const rto = this.#rtt.rto;
    let expired = 0;
    for (const [pn, sent] of this.#inFlight) {
      if (sent.sentAt + rto <= now) { // the same sum #rearmRto scheduled
        this.#lost(pn, sent);
        expired++;
      }
    }
    if (expired > 0) {
      this.#rtt.backOff();
      this.#stats.probes++;
      this.sendPing();
      this.#maybeHalve();
      this.#pump();
    }
    this.#rearmRto(now);
  };
}

const EMPTY = new Uint8Array(0);
const MIN_PACING_WAIT = 0.05;

function inRanges(pn: number, body: AckBody): boolean {
  for (const range of body.ranges) {
    if (pn > range.high) return false;
    if (pn >= range.low) return true;
  }
  return false;
}
