/**
 * Frames of the `noise-tcp` netlayer on the TCP byte stream (the layout is
 * documented at the top of netlayers/noise_tcp.ts). Noise (rev. 34, section
 * 3) caps every message at 65535 bytes, so a two-byte length is enough for
 * handshake messages and transport records alike; the type byte lets a
 * dialer tell a cookie reply from message 2, and lets garbage be named at
 * its first three bytes instead of after a failed decryption.
 */
import { NoiseError } from "./noise/errors.ts";
import { MAX_MESSAGE } from "./noise/handshake.ts";
import type { NoiseTransport } from "./noise/transport.ts";
import {
  MAX_RECORD_PLAINTEXT,
  RECORD_HEADER,
  RECORD_TAG,
} from "./noise/transport.ts";

/** Frame types. */
export const FRAME_INITIATION = 1;
export const FRAME_RESPONSE = 2;
export const FRAME_FINAL = 3;
export const FRAME_COOKIE = 4;
export const FRAME_RECORD = 5;
const HEADER = 3;

export interface Frame {
  readonly type: number;
  /** A view into the reader's buffer: valid until the next `next()`. */
  readonly body: Uint8Array;
}

/** The part of Deno.Conn the frame reader and writer use. */
export interface RawStream {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
}

/** One frame: length (u16 big-endian, of the body), type, body. */
export function encodeFrame(type: number, body: Uint8Array): Uint8Array {
  if (body.length > MAX_MESSAGE) {
    throw new RangeError(`Frame body of "${body.length}" bytes exceeds 65535`);
  }
  const out = new Uint8Array(HEADER + body.length);
  out[0] = body.length >>> 8;
  out[1] = body.length & 0xff;
  out[2] = type;
  out.set(body, HEADER);
  return out;
}

/** Bytes a record adds to its plaintext on the wire: frame header, record header, tag. */
export const RECORD_OVERHEAD = HEADER + RECORD_HEADER + RECORD_TAG;

/**
 * Seals `plaintext` into as few records as the record limit allows, framed,
 * all in one buffer: each record is sealed in place behind its frame
 * header, so the plaintext is copied once (by the cipher) and never again.
 */
export function sealRecords(
  transport: NoiseTransport,
  plaintext: Uint8Array,
): Uint8Array {
  const count = Math.max(1, Math.ceil(plaintext.length / MAX_RECORD_PLAINTEXT));
  const out = new Uint8Array(count * RECORD_OVERHEAD + plaintext.length);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const chunk = plaintext.subarray(
      i * MAX_RECORD_PLAINTEXT,
      (i + 1) * MAX_RECORD_PLAINTEXT,
    );
    offset += sealFrame(transport, chunk, out.subarray(offset)).length;
  }
  return out;
}

/**
 * Seals one record (at most MAX_RECORD_PLAINTEXT bytes of `chunk`) framed
 * at the start of `out`, and returns the frame: a view of `out`.
 */
export function sealFrame(
  transport: NoiseTransport,
  chunk: Uint8Array,
  out: Uint8Array,
): Uint8Array {
  const length = RECORD_HEADER + chunk.length + RECORD_TAG;
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = FRAME_RECORD;
  transport.sealInto(chunk, out.subarray(HEADER, HEADER + length));
  return out.subarray(0, HEADER + length);
}

export async function writeAll(
  stream: RawStream,
  bytes: Uint8Array,
): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await stream.write(bytes.subarray(at));
  }
}

/** The reader's first buffer: every handshake frame fits, and a session makes two readers. */
const INITIAL_BUFFER = 4 * 1024;
/** Room to read into that is worth a syscall: below this, unread bytes move down first. */
const READ_SLACK = 64 * 1024;
/** One frame's worth plus one read: the most a reader ever holds. */
const MAX_BUFFER = READ_SLACK + HEADER + MAX_MESSAGE;

/**
 * Splits a byte stream into frames; it never holds more than one frame's
 * worth plus one read. The buffer starts small, since most connections
 * only ever carry small frames and each costs one reader per side, and
 * grows (up to MAX_BUFFER) when a frame does not fit or a read fills it.
 */
export class FrameReader {
  readonly #stream: RawStream;
  #buf = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;
  #offset = 0;

  constructor(stream: RawStream) {
    this.#stream = stream;
  }

  /** Bytes of the stream consumed so far (for error offsets). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * A complete frame already buffered, or undefined; never reads.
   * @throws {NoiseError} "unexpected-message" as soon as a header names a type not in `allowed`
   */
  buffered(allowed?: readonly number[]): Frame | undefined {
    const available = this.#end - this.#start;
    if (available < HEADER) return undefined;
    const b = this.#buf;
    const type = b[this.#start + 2];
    if (allowed && !allowed.includes(type)) {
      throw new NoiseError(
        "unexpected-message",
        `Unexpected frame type "${type}" at byte ${this.#offset}`,
      );
    }
    const length = (b[this.#start] << 8) | b[this.#start + 1];
    if (available < HEADER + length) return undefined;
    const body = b.subarray(
      this.#start + HEADER,
      this.#start + HEADER + length,
    );
    this.#start += HEADER + length;
    this.#offset += HEADER + length;
    return { type, body };
  }

  /**
   * The next frame, or null at a clean end of stream.
   * @throws {NoiseError} "bad-length" when the stream ends inside a frame,
   * "unexpected-message" when a frame's type is not in `allowed`
   */
  async next(allowed?: readonly number[]): Promise<Frame | null> {
    for (;;) {
      const frame = this.buffered(allowed);
      if (frame) return frame;
      this.#makeRoom();
      const room = this.#buf.length - this.#end;
      const n = await this.#stream.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (this.#end === this.#start) return null;
        throw new NoiseError(
          "bad-length",
          `Stream ended inside a frame at byte ${this.#offset}`,
        );
      }
      this.#end += n;
      // A read that filled the buffer says the stream is fast: read more at once.
      if (n === room) this.#grow(this.#buf.length * 2);
    }
  }

  /** Before a read: room for the frame in progress, and unread bytes at the front. */
  #makeRoom(): void {
    const b = this.#buf;
    const available = this.#end - this.#start;
    const want = available < HEADER
      ? HEADER
      : HEADER + ((b[this.#start] << 8) | b[this.#start + 1]);
    if (want > b.length) {
      this.#grow(want);
      return;
    }
    if (
      this.#start > 0 &&
      (b.length - this.#end < READ_SLACK || this.#start + want > b.length)
    ) {
      b.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
  }

  /** Moves the unread bytes to the front of a buffer of at least `size` bytes. */
  #grow(size: number): void {
    let capacity = this.#buf.length;
    while (capacity < size) capacity *= 2;
    capacity = Math.min(capacity, MAX_BUFFER);
    if (capacity <= this.#buf.length) return;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = next;
  }
}

/** Names a frame of the wrong type for this point of the exchange. */
export function unexpectedFrame(
  frame: Frame,
  expected: string,
  offset: number,
): NoiseError {
  return new NoiseError(
    "unexpected-message",
    `Expected ${expected}, got frame type "${frame.type}" at byte ${offset}`,
  );
}
