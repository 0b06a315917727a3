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
import { MAX_RECORD_PLAINTEXT } from "./noise/transport.ts";

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

/** Seals `plaintext` into as few records as the record limit allows, framed. */
export function sealRecords(
  transport: NoiseTransport,
  plaintext: Uint8Array,
): Uint8Array {
  const count = Math.max(1, Math.ceil(plaintext.length / MAX_RECORD_PLAINTEXT));
  if (count === 1) return encodeFrame(FRAME_RECORD, transport.seal(plaintext));
  const frames: Uint8Array[] = [];
  let total = 0;
  for (let at = 0; at < plaintext.length; at += MAX_RECORD_PLAINTEXT) {
    const chunk = plaintext.subarray(at, at + MAX_RECORD_PLAINTEXT);
    const frame = encodeFrame(FRAME_RECORD, transport.seal(chunk));
    frames.push(frame);
    total += frame.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

export async function writeAll(
  stream: RawStream,
  bytes: Uint8Array,
): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await stream.write(bytes.subarray(at));
  }
}

/** Splits a byte stream into frames; it never holds more than one frame's worth plus one read. */
export class FrameReader {
  readonly #stream: RawStream;
  #buf = new Uint8Array(64 * 1024 + HEADER + MAX_MESSAGE);
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
      if (this.#start > 0 && this.#buf.length - this.#end < 64 * 1024) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const n = await this.#stream.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (this.#end === this.#start) return null;
        throw new NoiseError(
          "bad-length",
          `Stream ended inside a frame at byte ${this.#offset}`,
        );
      }
      this.#end += n;
    }
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
