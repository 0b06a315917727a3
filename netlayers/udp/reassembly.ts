/**
 * The inbound half of a UDP session (README "UDP netlayer"): fragments of
 * message objects, already authenticated, copied into one buffer per
 * message, and complete messages handed to CapTP in sequence order.
 *
 * Each open buffer is a registry entry (kind "udp-reassembly") with a
 * deadline that moves with progress, so an incomplete message whose sender
 * went away expires and is freed by the registry, and `stats()` shows what
 * is held. A complete message waiting for an earlier one drops its deadline:
 * its sender has seen it acked and will not send it again.
 *
 * Memory stays bounded by the limits the sender also obeys (sender.ts
 * `#start`): at most `maxOpenMessages` sequence numbers past the next one to
 * deliver, and `maxBufferedBytes + maxMessageBytes` bytes in buffers.
 * Sequence numbers are 32-bit and not expected to wrap (a session carries
 * fewer than 2^32 messages; the sender never wraps them).
 */
import type { Clock } from "../../protocol/clock.ts";
import type { Registry } from "../../protocol/registry.ts";
import type { UdpDataOptions } from "./options.ts";
import type { DataHeader } from "./wire.ts";

export const REASSEMBLY_KIND = "udp-reassembly";

/**
 * "accepted": new bytes; "duplicate": already had them (still acked, since
 * the sender may have missed the ack); "refused": over a limit or
 * inconsistent with what arrived before, so neither stored nor acked.
 */
export type FragmentOutcome = "accepted" | "duplicate" | "refused";

export interface ReassemblyOptions {
  registry: Registry;
  clock: Clock;
  options: UdpDataOptions;
  /** Complete messages, in sequence order; must not throw. */
  deliver: (message: Uint8Array) => void;
}

export interface ReassemblyStats {
  open: number;
  bufferedBytes: number;
  delivered: number;
  duplicates: number;
  refused: number;
  expired: number;
}

interface Buffer {
  readonly sequence: number;
  readonly length: number;
  count: number;
  stride: number;
  bytes: Uint8Array;
  have: Uint8Array;
  received: number;
  deadline: number;
}

export class Reassembly {
  #registry: Registry;
  #clock: Clock;
  #o: UdpDataOptions;
  #deliver: (message: Uint8Array) => void;
  /** The next sequence number to deliver. */
  #next = 0;
  /** Sequence number -> registry hashcode of its buffer. */
  #open = new Map<number, number>();
  #bufferedBytes = 0;
  #counts = { delivered: 0, duplicates: 0, refused: 0, expired: 0 };

  constructor(options: ReassemblyOptions) {
    this.#registry = options.registry;
    this.#clock = options.clock;
    this.#o = options.options;
    this.#deliver = options.deliver;
  }

  /** Incomplete messages are outstanding work (keepalive, silent peer). */
  get busy(): boolean {
    return this.#open.size > 0;
  }

  stats(): ReassemblyStats {
    return {
      ...this.#counts,
      open: this.#open.size,
      bufferedBytes: this.#bufferedBytes,
    };
  }

  /**
   * Would `header` be stored? Asked before the datagram counts as received,
   * so a refused fragment is neither acked nor marked in the replay window.
   */
  admits(header: DataHeader): boolean {
    const { sequence } = header;
    if (sequence < this.#next) return true;
    if (sequence >= this.#next + this.#o.maxOpenMessages) return false;
    const code = this.#open.get(sequence);
    if (code === undefined) {
      return this.#bufferedBytes + header.length <=
        this.#o.maxBufferedBytes + this.#o.maxMessageBytes;
    }
    return this.#registry.get<Buffer>(code).length === header.length;
  }

  /** Stores one authenticated fragment; call only after `admits()`. */
  offer(header: DataHeader, fragment: Uint8Array): FragmentOutcome {
    if (!this.admits(header)) {
      this.#counts.refused++;
      return "refused";
    }
    if (header.sequence < this.#next) return this.#duplicate();
    const now = this.#clock.now();
    let code = this.#open.get(header.sequence);
    let buffer = code === undefined
      ? undefined
      : this.#registry.get<Buffer>(code);
    if (buffer === undefined || code === undefined) {
      buffer = this.#create(header, now);
      code = this.#open.get(header.sequence)!;
    } else if (buffer.received === buffer.count) {
      return this.#duplicate();
    } else if (header.count < buffer.count) {
      return this.#duplicate(); // from before the sender halved its datagrams
    } else if (header.count > buffer.count) {
      resplit(buffer, header.count);
    }
    if (buffer.have[header.index] !== 0) return this.#duplicate();
    buffer.have[header.index] = 1;
    buffer.bytes.set(fragment, header.index * buffer.stride);
    if (++buffer.received === buffer.count) {
      this.#registry.extend(code, undefined);
      this.#drain();
    } else if (buffer.deadline - now < this.#o.reassemblyTimeout / 2) {
      // Moving the deadline every few seconds, not per fragment, keeps the
      // registry's deadline heap small on the hot path.
      buffer.deadline = now + this.#o.reassemblyTimeout;
      this.#registry.extend(code, buffer.deadline);
    }
    return "accepted";
  }

  /** Frees every buffer; undelivered messages are lost with the session. */
  close(): void {
    for (const code of [...this.#open.values()]) this.#registry.release(code);
  }

  #duplicate(): FragmentOutcome {
    this.#counts.duplicates++;
    return "duplicate";
  }

  #create(header: DataHeader, now: number): Buffer {
    const buffer: Buffer = {
      sequence: header.sequence,
      length: header.length,
      count: 0,
      stride: 0,
      bytes: new Uint8Array(header.length),
      have: EMPTY,
      received: 0,
      deadline: now + this.#o.reassemblyTimeout,
    };
    resplit(buffer, header.count);
    const code = this.#registry.mint<Buffer>(REASSEMBLY_KIND, buffer, {
      deadline: buffer.deadline,
      dispose: (b, why) => {
        this.#open.delete(b.sequence);
        this.#bufferedBytes -= b.length;
        if (why === "expired") this.#counts.expired++;
      },
    });
    this.#open.set(header.sequence, code);
    this.#bufferedBytes += header.length;
    return buffer;
  }

  #drain(): void {
    for (;;) {
      const code = this.#open.get(this.#next);
      if (code === undefined) return;
      const buffer = this.#registry.get<Buffer>(code);
      if (buffer.received !== buffer.count) return;
      this.#registry.release(code);
      this.#next++;
      this.#counts.delivered++;
      this.#deliver(buffer.bytes);
    }
  }
}

const EMPTY = new Uint8Array(0);

function resplit(buffer: Buffer, count: number): void {
  buffer.count = count;
  buffer.stride = Math.ceil(buffer.length / count);
  buffer.have = new Uint8Array(count);
  buffer.received = 0;
}
