/**
 * The transport phase of a `noise-tcp` connection as a plaintext byte
 * stream, so netlayers/stream_connection.ts (framing, decoding, the close
 * and linger dance) serves the encrypted netlayer unchanged: every `write`
 * of StreamConnection is one whole Syrup message and becomes one record (or
 * consecutive records, past Noise's 65535-byte limit), and `read` hands back
 * the plaintext of the records in order.
 *
 * Any bad record (tampered, replayed, reordered, of the wrong frame type)
 * ends the connection with that NoiseError as its close reason, and the
 * keys are zeroed when the socket is released.
 */
import type { ByteDuplex } from "./stream_connection.ts";
import {
  FRAME_RECORD,
  FrameReader,
  RECORD_OVERHEAD,
  sealFrame,
  unexpectedFrame,
  writeAll,
} from "./_noise_tcp_wire.ts";
import {
  MAX_RECORD_PLAINTEXT,
  type NoiseTransport,
} from "./noise/transport.ts";

/** The socket under a duplex: Deno.TcpConn fits. */
export interface SocketLike {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

const RECORD_ONLY = [FRAME_RECORD];

export class NoiseDuplex implements ByteDuplex {
  readonly #socket: SocketLike;
  readonly #reader: FrameReader;
  readonly #transport: NoiseTransport;
  /** Called once with the error that ended input; the connection closes with it. */
  onFailure: ((error: Error) => void) | undefined;
  #pending: Uint8Array | undefined;
  /** Where records are sealed before their write: reused, grown to one full record at most. */
  #sealed = new Uint8Array(0);
  /** Set when a record fails; reported after the good plaintext before it. */
  #failure: Error | undefined;
  #reported = false;

  constructor(
    socket: SocketLike,
    options: {
      reader: FrameReader;
      transport: NoiseTransport;
      /** Plaintext already opened during the handshake. */
      initial?: Uint8Array;
    },
  ) {
    this.#socket = socket;
    this.#reader = options.reader;
    this.#transport = options.transport;
    if (options.initial?.length) this.#pending = options.initial;
  }

  /** True once the transport's keys have been zeroed. */
  get keysZeroed(): boolean {
    return this.#transport.closed;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#failure) return this.#report();
    let filled = this.#drainPending(buffer, 0);
    if (filled > 0) return this.#fillFromBuffered(buffer, filled);
    for (;;) {
      let frame;
      try {
        frame = await this.#reader.next(RECORD_ONLY);
      } catch (error) {
        // A socket error is the stream's own end; a short frame is ours to name.
        if (error instanceof Error && error.name === "NoiseError") {
          this.#failure = error;
          return this.#report();
        }
        throw error;
      }
      if (frame === null) return null;
      const plaintext = this.#open(frame);
      if (plaintext === undefined) return this.#report();
      if (plaintext.length === 0) continue;
      this.#pending = plaintext;
      filled = this.#drainPending(buffer, 0);
      return this.#fillFromBuffered(buffer, filled);
    }
  }

  /**
   * One record at a time, each written before the next is sealed: a large
   * batch reaches the peer (and its decryption starts) while the rest is
   * still being sealed, and one reused buffer holds every record. A write
   * has finished with its buffer once it resolves; StreamConnection never
   * calls this again before then.
   */
  async write(bytes: Uint8Array): Promise<number> {
    let at = 0;
    do {
      const chunk = bytes.subarray(at, at + MAX_RECORD_PLAINTEXT);
      const size = chunk.length + RECORD_OVERHEAD;
      if (this.#sealed.length < size) {
        this.#sealed = new Uint8Array(
          Math.min(
            Math.max(size, this.#sealed.length * 2),
            MAX_RECORD_PLAINTEXT + RECORD_OVERHEAD,
          ),
        );
      }
      await writeAll(
        this.#socket,
        sealFrame(this.#transport, chunk, this.#sealed),
      );
      at += chunk.length;
    } while (at < bytes.length);
    return bytes.length;
  }

  closeWrite(): Promise<void> {
    return this.#socket.closeWrite();
  }

  close(): void {
    this.#transport.close();
    this.#socket.close();
  }

  /** Adds the plaintext of records already buffered, without waiting. */
  #fillFromBuffered(buffer: Uint8Array, filled: number): number | null {
    while (filled < buffer.length && this.#pending === undefined) {
      let frame;
      try {
        frame = this.#reader.buffered(RECORD_ONLY);
      } catch (error) {
        this.#failure = error as Error;
        this.#transport.close();
        break;
      }
      if (frame === undefined) break;
      const plaintext = this.#open(frame);
      if (plaintext === undefined) break;
      this.#pending = plaintext;
      filled = this.#drainPending(buffer, filled);
    }
    return filled;
  }

  #drainPending(buffer: Uint8Array, at: number): number {
    const pending = this.#pending;
    if (pending === undefined) return at;
    const n = Math.min(pending.length, buffer.length - at);
    buffer.set(pending.subarray(0, n), at);
    this.#pending = n === pending.length ? undefined : pending.subarray(n);
    return at + n;
  }

  #open(frame: { type: number; body: Uint8Array }): Uint8Array | undefined {
    try {
      if (frame.type !== FRAME_RECORD) {
        throw unexpectedFrame(frame, "a transport record", this.#reader.offset);
      }
      return this.#transport.open(frame.body);
    } catch (error) {
      this.#failure = error as Error;
      this.#transport.close();
      return undefined;
    }
  }

  #report(): null {
    if (!this.#reported) {
      this.#reported = true;
      this.onFailure?.(this.#failure!);
    }
    return null;
  }
}
