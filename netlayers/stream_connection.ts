/**
 * A FramedConnection over a byte stream (a TCP socket, or anything shaped
 * like Deno.Conn): one read loop, one ordered write queue, graceful close.
 *
 * shared/ocapn-notes.md, "tcp-testing-only": each message goes out in one
 * write of one buffer (a short write is continued, never interleaved), and
 * input is parsed as a stream. Closing half-closes first and drains input
 * until the peer closes: closing a socket with unread input makes the kernel
 * send a reset, and the official test suite's op_abort test fails on a reset
 * (suite_notes.md, "op_abort").
 */

import { concatBytes } from "../protocol/bytes.ts";
import { FramedConnection } from "./base.ts";
import type { FramedConnectionOptions } from "./base.ts";
import { ConnectionClosedError } from "./errors.ts";

/** The part of Deno.Conn a stream connection uses. */
export interface ByteDuplex {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

export interface StreamConnectionOptions extends FramedConnectionOptions {
  /** How long a closing side waits for the peer's end of input before cutting (default 2000 ms). */
  lingerMs?: number;
  /** Size of the read buffer (default 64 KiB). */
  readBufferSize?: number;
}

export class StreamConnection extends FramedConnection {
  readonly #duplex: ByteDuplex;
  readonly #lingerMs: number;
  /**
   * Frames waiting are `#queue[0, #queued)`; the array is reused (slots
   * cleared) rather than replaced per write, which regrew it every time.
   */
  #queue: (Uint8Array | undefined)[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #writeFailed = false;
  readonly #reading: Promise<void>;
  #released = false;

  constructor(duplex: ByteDuplex, options: StreamConnectionOptions) {
    super(options);
    this.#duplex = duplex;
    this.#lingerMs = options.lingerMs ?? 2000;
    this.#reading = this.#readLoop(options.readBufferSize ?? 64 * 1024);
  }

  protected transmit(frame: Uint8Array): void {
    if (this.#writeFailed) return;
    this.#queue[this.#queued++] = frame;
    this.#flushing ??= this.#flush();
  }

  protected async shutdown(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const linger = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#lingerMs);
    });
    const graceful = (async () => {
      if (this.#flushing) await this.#flushing;
      try {
        await this.#duplex.closeWrite();
      } catch {
        // Already reset or closed by the peer: nothing left to tell it.
      }
      await this.#reading;
    })();
    await Promise.race([graceful, linger]);
    clearTimeout(timer);
    // Releasing makes a write or read still pending (a peer that neither
    // reads nor closes) fail at once, so `graceful` settles.
    this.#release();
    await graceful;
  }

  async #readLoop(size: number): Promise<void> {
    const buffer = new Uint8Array(size);
    let reason: Error | undefined;
    for (;;) {
      let n: number | null;
      try {
        n = await this.#duplex.read(buffer);
      } catch (error) {
        if (!this.isClosed) {
          reason = new ConnectionClosedError("Connection broke while reading", {
            cause: error,
          });
        }
        break;
      }
      if (n === null) {
        if (!this.isClosed) {
          reason = new ConnectionClosedError("Peer closed the connection");
        }
        break;
      }
      // Once closing, input is read only to reach the peer's end and is dropped.
      this.receive(buffer, n);
    }
    if (!this.isClosed) this.transportEnded(reason);
  }

  async #flush(): Promise<void> {
    try {
      // Let the rest of this turn queue its frames (a CapTP answer is
      // followed by its GC message) so they share one write.
      await null;
      while (this.#queued > 0) {
        // Everything queued while the last write was in flight goes out in
        // one write: whole frames only, so no message is split between
        // writes by us, and a burst costs one syscall instead of one each.
        const batch = this.#takeBatch();
        // A short write is rare on loopback: only then is a view made.
        let offset = await this.#duplex.write(batch);
        while (offset < batch.length) {
          offset += await this.#duplex.write(batch.subarray(offset));
        }
      }
    } catch (error) {
      this.#writeFailed = true;
      this.#queue = [];
      this.#queued = 0;
      if (!this.isClosed) {
        this.transportEnded(
          new ConnectionClosedError("Connection broke while writing", {
            cause: error,
          }),
        );
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /** The queued frames as one buffer; the queue is left empty. */
  #takeBatch(): Uint8Array {
    const frames = this.#queue;
    const count = this.#queued;
    const batch = count === 1 ? frames[0]! : joinFrames(frames, count);
    for (let i = 0; i < count; i++) frames[i] = undefined;
    this.#queued = 0;
    if (frames.length > 1024) this.#queue = [];
    return batch;
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#duplex.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

/**
 * The frames as one buffer. The Syrup encoder carves consecutive messages
 * out of one chunk, so frames queued in one turn are usually adjacent in
 * memory: then a view over them is enough, and copying (a fresh buffer per
 * write) is left for frames that are not.
 */
function joinFrames(
  frames: (Uint8Array | undefined)[],
  count: number,
): Uint8Array {
  const first = frames[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < count; i++) {
    const frame = frames[i]!;
    if (frame.buffer !== first.buffer || frame.byteOffset !== end) {
      return concatBytes(frames.slice(0, count) as Uint8Array[]);
    }
    end += frame.length;
  }
  return new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}
