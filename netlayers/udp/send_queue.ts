/**
 * The message side of a UDP session's outbound half (README "UDP
 * netlayer"): the queue of message objects waiting for delivery, each split
 * into fragments (wire.ts) with a record of which fragments the peer has
 * acked, and the order in which fragments go out (lost ones first, then new
 * ones in message order).
 *
 * It is kept apart from sender.ts, which deals in packets: packet numbers,
 * the in-flight map, loss detection, the retransmission timer and pacing.
 * A fragment may travel under several packet numbers before it is acked, so
 * this module never sees a packet number, and sender.ts never looks inside
 * a message beyond the bytes of the fragment it seals. The limits on started
 * messages live here because they are what keeps the receiver's reassembly
 * buffers bounded (reassembly.ts).
 */
import type { UdpDataOptions } from "./options.ts";
import {
  DATA_HEADER_LENGTH,
  fragmentCount,
  fragmentStride,
  TAG_LENGTH,
} from "./wire.ts";

/** A queued message object; the sender reads it to seal its fragments. */
export interface OutMessage {
  readonly sequence: number;
  readonly bytes: Uint8Array;
  count: number;
  stride: number;
  acked: Uint8Array;
  ackedCount: number;
  /** Next fragment never sent under the current count. */
  nextIndex: number;
  started: boolean;
  done: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One fragment of a message, as split when it was sent. */
export interface FragmentRef {
  readonly index: number;
  /** The message's fragment count then; a re-split makes it stale. */
  readonly count: number;
}

export interface Fragment extends FragmentRef {
  readonly message: OutMessage;
  /** Sent before and lost: a retransmission. */
  readonly again: boolean;
}

type QueueOptions = Pick<
  UdpDataOptions,
  "datagramSize" | "maxMessageBytes" | "maxOpenMessages" | "maxBufferedBytes"
>;

export class SendQueue {
  #o: QueueOptions;
  #datagramSize: number;
  #nextSequence = 0;
  /** Oldest unfinished first; finished ones leave only from the front. */
  #messages: OutMessage[] = [];
  #cursor = 0;
  #startedBytes = 0;
  #retransmit: Fragment[] = [];

  constructor(options: QueueOptions) {
    this.#o = options;
    this.#datagramSize = options.datagramSize;
  }

  /** The size messages are currently split for, header and tag included. */
  get datagramSize(): number {
    return this.#datagramSize;
  }

  /** Some message is not yet settled. */
  get outstanding(): boolean {
    return this.#messages.length > 0;
  }

  /**
   * Queues `bytes` (not copied); resolves once every fragment is acked,
   * rejects at once if the message is over `maxMessageBytes`.
   */
  add(bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.#o.maxMessageBytes) {
      return Promise.reject(
        new RangeError(`Message of "${bytes.length}" bytes is over the limit`),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#messages.push({
      sequence: this.#nextSequence++,
      bytes,
      count: 0,
      stride: 0,
      acked: EMPTY,
      ackedCount: 0,
      nextIndex: 0,
      started: false,
      done: false,
      resolve,
      reject,
    });
    return promise;
  }

  /** The fragment to send next, or undefined if none may go now. */
  next(): Fragment | undefined {
    while (this.#retransmit.length > 0) {
      const r = this.#retransmit.shift()!;
      if (wanted(r.message, r)) return r;
    }
    while (this.#cursor < this.#messages.length) {
      const m = this.#messages[this.#cursor];
      if (!m.started && !this.#start(m)) return undefined;
      if (m.nextIndex < m.count) {
        return {
          message: m,
          index: m.nextIndex++,
          count: m.count,
          again: false,
        };
      }
      this.#cursor++;
    }
    return undefined;
  }

  /** Records the peer's ack of a fragment; the last one resolves `m`. */
  acked(m: OutMessage, fragment: FragmentRef): void {
    if (!wanted(m, fragment)) return;
    m.acked[fragment.index] = 1;
    if (++m.ackedCount === m.count) {
      m.done = true;
      m.resolve();
    }
  }

  /** Queues a lost fragment to go again, unless it is no longer needed. */
  lost(m: OutMessage, fragment: FragmentRef): void {
    if (!wanted(m, fragment)) return;
    this.#retransmit.push({
      message: m,
      index: fragment.index,
      count: m.count,
      again: true,
    });
  }

  /** Drops finished messages from the front so their bytes can be freed. */
  settle(): void {
    let n = 0;
    while (n < this.#messages.length && this.#messages[n].done) {
      this.#startedBytes -= this.#messages[n].bytes.length;
      n++;
    }
    if (n === 0) return;
    this.#messages.splice(0, n);
    this.#cursor = Math.max(0, this.#cursor - n);
  }

  /**
   * Splits every unfinished message again for `datagramSize` and sends it
   * from its first fragment; the caller forgets what was in flight.
   */
  resize(datagramSize: number): void {
    this.#datagramSize = datagramSize;
    for (const m of this.#messages) if (m.started && !m.done) this.#split(m);
    this.#retransmit = [];
    this.#cursor = 0;
  }

  /** Rejects every unfinished message and empties the queue. */
  fail(error: Error): void {
    const messages = this.#messages;
    this.#messages = [];
    this.#retransmit = [];
    for (const m of messages) if (!m.done) m.reject(error);
  }

  /** Limits that keep the receiver's buffers bounded (reassembly.ts). */
  #start(m: OutMessage): boolean {
    const first = this.#messages[0].sequence;
    if (m.sequence >= first + this.#o.maxOpenMessages) return false;
    const bytes = this.#startedBytes + m.bytes.length;
    if (this.#startedBytes > 0 && bytes > this.#o.maxBufferedBytes) {
      return false;
    }
    m.started = true;
    this.#startedBytes = bytes;
    this.#split(m);
    return true;
  }

  #split(m: OutMessage): void {
    const max = this.#datagramSize - DATA_HEADER_LENGTH - TAG_LENGTH;
    m.count = fragmentCount(m.bytes.length, max);
    m.stride = fragmentStride(m.bytes.length, m.count);
    m.acked = new Uint8Array(m.count);
    m.ackedCount = 0;
    m.nextIndex = 0;
  }
}

const EMPTY = new Uint8Array(0);

/** The fragment is still unacked under the message's current split. */
function wanted(m: OutMessage, fragment: FragmentRef): boolean {
  return !m.done && fragment.count === m.count && m.acked[fragment.index] === 0;
}
