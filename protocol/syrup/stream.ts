/**
 * Streaming Syrup decoder and frame encoder for byte-stream netlayers.
 *
 * shared/ocapn-notes.md, "Netlayers": tcp-testing-only peers either send
 * bare concatenated Syrup records (the stored test suite) or prefix each with
 * `<len>:` (a netstring without the trailing comma; newer suite work, Endo).
 * Reads split and join records arbitrarily, so this buffers input and hands
 * back every record completed so far.
 *
 * Cost stays linear in the input however it is chunked: a record that is
 * not complete is scanned token by token once, resuming where the scan
 * stopped, and fully decoded only when its last byte is in; a netstring
 * payload is not looked at until its declared length has arrived. Finding
 * that a chunk ends inside a record builds no Error (see TRUNCATED in
 * _reader.ts), and a bare chunk that starts on a record boundary is decoded
 * where it lies: only an incomplete last record is copied in.
 */

import type { SyrupValue } from "./value.ts";
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  Reader,
  TRUNCATED,
} from "./_reader.ts";
import { encode } from "./encode.ts";

export type Framing = "bare" | "netstring";

export interface StreamDecoderOptions {
  /** How records are delimited on the wire (default "bare"). */
  framing?: Framing;
  /** Bounds both any one length inside a record and a whole record or frame (default 16 MiB). */
  maxLength?: number;
  /** Deepest nesting inside one record (default 128). */
  maxDepth?: number;
  /** Most digits in one integer (default 1024). */
  maxIntegerDigits?: number;
}

/** What one {@link SyrupStreamDecoder.push} produced. */
export interface PushResult {
  /** Every record completed so far, in order, up to any bad bytes. */
  values: SyrupValue[];
  /** Set once the stream holds bad bytes; the same error on every later push. */
  error: SyntaxError | undefined;
}

const INITIAL_CAPACITY = 4096;
const EMPTY = new Uint8Array(0);

/**
 * Turns a byte stream into Syrup records.
 *
 * Bad bytes do not throw: push returns the records that preceded them and
 * the error, so a netlayer can deliver those and then report the error (a
 * peer's last good message before the bad one may be an op:abort worth
 * reading). After the first error the stream cannot be resynchronised:
 * every later push returns that error and no records, and the buffer is
 * released. Offsets in messages count from the first byte of the stream.
 */
export class SyrupStreamDecoder {
  readonly framing: Framing;
  readonly #maxLength: number;
  readonly #maxDepth: number;
  readonly #reader: Reader;
  #buf: Uint8Array = EMPTY;
  /** Unread bytes are `#buf[#start, #end)`; the current record starts at #start. */
  #start = 0;
  #end = 0;
  /** Stream offset of `#buf[#start]`: every byte consumed before it. */
  #consumed = 0;
  /** Bare framing: bytes of the current record scanned so far, and the open containers there. */
  #scanned = 0;
  #depth = 0;
  /** Netstring framing: the payload length once the prefix is read, else -1. */
  #frameLength = -1;
  #frameStart = 0;
  #failure: SyntaxError | undefined;

  constructor(options: StreamDecoderOptions = {}) {
    const framing = options.framing ?? "bare";
    if (framing !== "bare" && framing !== "netstring") {
      throw new TypeError(`Unknown framing "${framing}"`);
    }
    this.framing = framing;
    this.#maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#reader = new Reader({
      maxLength: this.#maxLength,
      maxDepth: this.#maxDepth,
      maxIntegerDigits: options.maxIntegerDigits,
    });
  }

  /** Bytes received but not yet part of a returned record. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Adds `chunk` and returns every record it completes, in order, with the
   * error for any bad bytes after them. Never throws for bad bytes. Only
   * `chunk[0, length)` is read, so a netlayer can pass its read buffer
   * without making a view of it per read.
   * @throws {TypeError} when `chunk` is not a Uint8Array
   * @throws {RangeError} when `length` is not an index into `chunk`
   */
  push(chunk: Uint8Array, length: number = chunk.length): PushResult {
    if (this.#failure) return { values: [], error: this.#failure };
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`Cannot decode ${typeof chunk}: expected Uint8Array`);
    }
    if (!(length >= 0 && length <= chunk.length && length % 1 === 0)) {
      throw new RangeError(`Length "${length}" is outside the chunk`);
    }
    const values: SyrupValue[] = [];
    try {
      if (this.framing === "bare") this.#pushBare(chunk, length, values);
      else {
        this.#append(
          length === chunk.length ? chunk : chunk.subarray(0, length),
        );
        this.#drainNetstring(values);
      }
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.#failure = error;
      this.#buf = EMPTY;
      this.#start = this.#end = 0;
      return { values, error };
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    }
    return { values, error: undefined };
  }

  /**
   * With nothing buffered, whole records are read straight from `chunk` and
   * only an incomplete last record is copied in; a chunk that starts on a
   * record boundary and ends on one is never copied.
   */
  #pushBare(chunk: Uint8Array, length: number, out: SyrupValue[]): void {
    if (this.#start !== this.#end) {
      this.#append(length === chunk.length ? chunk : chunk.subarray(0, length));
      this.#drainBare(out, false);
      return;
    }
    const reader = this.#reader;
    let at = 0;
    reader.stream = true;
    try {
      while (at < length) {
        const value = reader.read(chunk, at, length, this.#consumed - at);
        this.#checkLength(reader.pos - at);
        out.push(value);
        this.#consumed += reader.pos - at;
        at = reader.pos;
      }
      return;
    } catch (error) {
      if (error !== TRUNCATED) throw error;
    } finally {
      reader.stream = false;
    }
    this.#append(
      at === 0 && length === chunk.length ? chunk : chunk.subarray(at, length),
    );
    this.#drainBare(out, true);
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const unread = this.#end - this.#start;
      const needed = unread + chunk.length;
      if (needed <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let capacity = Math.max(this.#buf.length, INITIAL_CAPACITY);
        while (capacity < needed) capacity *= 2;
        const next = new Uint8Array(capacity);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      if (this.#frameLength >= 0) this.#frameStart -= this.#start;
      this.#start = 0;
      this.#end = unread;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * A bare record of `length` bytes starting at the current position must
   * fit maxLength whether it arrived whole or in pieces.
   */
  #checkLength(length: number): void {
    if (length > this.#maxLength) {
      throw new SyntaxError(
        `Record longer than maxLength ${this.#maxLength} at byte ${this.#consumed}`,
      );
    }
  }

  /** The current record or frame ends at `#buf[to]`. */
  #advance(to: number): void {
    this.#consumed += to - this.#start;
    this.#start = to;
  }

  /** Decodes `#buf[from, to)`, which must hold exactly one value. */
  #decode(from: number, to: number): SyrupValue {
    const reader = this.#reader;
    const shift = this.#consumed - this.#start;
    const value = reader.read(this.#buf, from, to, shift);
    if (reader.pos !== to) {
      throw new SyntaxError(
        `Trailing bytes after the value at byte ${reader.pos + shift}`,
      );
    }
    return value;
  }

  /**
   * `truncated`: the record at #start is already known to be incomplete, so
   * the scan takes it without another attempt at a whole decode.
   */
  #drainBare(out: SyrupValue[], truncated: boolean): void {
    const reader = this.#reader;
    while (this.#start < this.#end) {
      // A record whose scan has begun is not tried whole again: the scan
      // resumes where it stopped and the record is decoded once, complete.
      if (this.#scanned === 0 && !truncated) {
        // Fast path: try the whole record in one pass; only a record that is
        // still arriving falls back to the resumable scan.
        const shift = this.#consumed - this.#start;
        reader.stream = true;
        try {
          const value = reader.read(this.#buf, this.#start, this.#end, shift);
          this.#checkLength(reader.pos - this.#start);
          out.push(value);
          this.#advance(reader.pos);
          continue;
        } catch (error) {
          if (error !== TRUNCATED) throw error;
        } finally {
          reader.stream = false;
        }
      }
      truncated = false;
      const recordEnd = this.#scan();
      if (recordEnd < 0) {
        this.#checkLength(this.#end - this.#start);
        return;
      }
      this.#checkLength(recordEnd);
      out.push(this.#decode(this.#start, this.#start + recordEnd));
      this.#advance(this.#start + recordEnd);
      this.#scanned = 0;
      this.#depth = 0;
    }
  }

  /**
   * Advances over whole tokens of the current record. Returns the record's
   * length once its last token is in, else -1 (more bytes needed). It only
   * finds boundaries; the decoder judges the bytes, so a token the scan does
   * not understand ends the record early and decode() reports it.
   */
  #scan(): number {
    const buf = this.#buf;
    const base = this.#start;
    const available = this.#end - base;
    const maxDigits = this.#reader.maxDigits;
    let at = this.#scanned;
    while (at < available) {
      const b = buf[base + at];
      let next: number;
      if (b >= 0x30 && b <= 0x39) {
        let p = at;
        let n = 0;
        while (
          p < available && buf[base + p] >= 0x30 && buf[base + p] <= 0x39
        ) {
          n = n * 10 + buf[base + p] - 0x30;
          // Past the reader's digit limit the record is bad whatever follows:
          // end it here (decode() names the rule) rather than rescan a run
          // of digits that grows with every push.
          if (++p - at > maxDigits) return p;
        }
        if (p >= available) break;
        const t = buf[base + p];
        if (t === 0x2b || t === 0x2d) next = p + 1;
        else if (t === 0x3a || t === 0x22 || t === 0x27) {
          if (n > this.#maxLength) return p + 1;
          next = p + 1 + n;
          if (next > available) break;
        } else return p + 1;
      } else if (b === 0x74 || b === 0x66) next = at + 1;
      else if (b === 0x44 || b === 0x46) {
        next = at + (b === 0x44 ? 9 : 5);
        if (next > available) break;
      } else if (b === 0x5b || b === 0x7b || b === 0x3c || b === 0x23) {
        this.#depth++;
        if (this.#depth > this.#maxDepth) return at + 1;
        next = at + 1;
      } else if (b === 0x5d || b === 0x7d || b === 0x3e || b === 0x24) {
        if (this.#depth === 0) return at + 1;
        this.#depth--;
        next = at + 1;
      } else return at + 1;
      at = next;
      if (this.#depth === 0) return at;
    }
    this.#scanned = at;
    return -1;
  }

  #drainNetstring(out: SyrupValue[]): void {
    const buf = this.#buf;
    while (this.#start < this.#end) {
      if (this.#frameLength < 0) {
        const at = this.#consumed;
        const maxDigits = String(this.#maxLength).length;
        let p = this.#start;
        let n = 0;
        while (p < this.#end && buf[p] >= 0x30 && buf[p] <= 0x39) {
          if (p > this.#start && buf[this.#start] === 0x30) {
            throw new SyntaxError(
              `Leading zero in a frame length at byte ${at}`,
            );
          }
          n = n * 10 + buf[p] - 0x30;
          p++;
          if (p - this.#start > maxDigits || n > this.#maxLength) {
            throw new SyntaxError(
              `Frame longer than maxLength ${this.#maxLength} at byte ${at}`,
            );
          }
        }
        if (p >= this.#end) return;
        if (buf[p] !== 0x3a || p === this.#start) {
          throw new SyntaxError(
            `Expected a frame length and ":" at byte ${at + p - this.#start}`,
          );
        }
        this.#frameLength = n;
        this.#frameStart = p + 1;
      }
      const frameEnd = this.#frameStart + this.#frameLength;
      if (frameEnd > this.#end) return;
      out.push(this.#decode(this.#frameStart, frameEnd));
      this.#advance(frameEnd);
      this.#frameLength = -1;
    }
  }
}

/** One record ready for a single write: `value` encoded, behind `<len>:` for netstring framing. */
export function encodeFrame(value: SyrupValue, framing: Framing): Uint8Array {
  return frameEncoded(encode(value), framing);
}

/** Frames bytes that are already one encoded Syrup record. */
export function frameEncoded(syrup: Uint8Array, framing: Framing): Uint8Array {
  if (framing === "bare") return syrup;
  if (framing !== "netstring") {
    throw new TypeError(`Unknown framing "${framing}"`);
  }
  const prefix = new TextEncoder().encode(`${syrup.length}:`);
  const frame = new Uint8Array(prefix.length + syrup.length);
  frame.set(prefix);
  frame.set(syrup, prefix.length);
  return frame;
}
