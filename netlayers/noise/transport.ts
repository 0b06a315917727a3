/**
 * Noise transport phase (Noise rev. 34 section 5 after Split, 11.3 rekey)
 * as OCapN's encrypted netlayer uses it: one CipherState per direction, a
 * rekey after a number of messages or an age, and the keys zeroed on close.
 *
 * Deliberate deviation: Noise leaves nonces implicit. Each record here
 * carries a 9-byte header (flags, then the 64-bit little-endian counter that
 * is the nonce), authenticated as the AEAD associated data. It costs 9 bytes
 * and lets a replayed, reordered and tampered record each be named, and the
 * same record format serve a datagram netlayer later. Flag bit 0 says "the
 * sender rekeyed before this record", so time-based rekeys need no clock
 * agreement between peers.
 */
import type { Clock } from "../../protocol/clock.ts";
import { NoiseError } from "./errors.ts";
import { MAX_MESSAGE, type SplitResult } from "./handshake.ts";
import type { CipherState } from "./symmetric.ts";

export const RECORD_HEADER = 9;
/** The AEAD tag every record carries after its ciphertext. */
export const RECORD_TAG = 16;
const TAG = RECORD_TAG;
/** The largest plaintext one record carries (Noise's 65535-byte limit). */
export const MAX_RECORD_PLAINTEXT = MAX_MESSAGE - RECORD_HEADER - TAG;
const FLAG_REKEYED = 1;

export interface TransportOptions {
  /** Rekey the sending key after this many records (default 2^20). */
  readonly rekeyAfterMessages?: number;
  /** Rekey the sending key once it is this old, by `clock` (default 120 s). */
  readonly rekeyAfterMs?: number;
  readonly clock?: Clock;
}

export class NoiseTransport {
  readonly handshakeHash: Uint8Array;
  #send: CipherState;
  #receive: CipherState;
  #rekeyAfterMessages: number;
  #rekeyAfterMs: number;
  #clock?: Clock;
  #sentSinceRekey = 0;
  #keyBornAt: number;
  #closed = false;

  constructor(split: SplitResult, options: TransportOptions = {}) {
    this.#send = split.send;
    this.#receive = split.receive;
    this.handshakeHash = split.handshakeHash;
    this.#rekeyAfterMessages = options.rekeyAfterMessages ?? 2 ** 20;
    this.#rekeyAfterMs = options.rekeyAfterMs ?? 120_000;
    this.#clock = options.clock;
    this.#keyBornAt = this.#clock?.now() ?? 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Encrypts one record: header || ciphertext || tag. */
  seal(plaintext: Uint8Array): Uint8Array {
    const record = new Uint8Array(RECORD_HEADER + plaintext.length + TAG);
    this.sealInto(plaintext, record);
    return record;
  }

  /**
   * Encrypts one record into `output` (exactly RECORD_HEADER + plaintext
   * length + 16 bytes, not overlapping `plaintext`), so a writer can frame
   * many records in one buffer with no copy per record.
   */
  sealInto(plaintext: Uint8Array, output: Uint8Array): void {
    this.#checkOpen();
    if (plaintext.length > MAX_RECORD_PLAINTEXT) {
      throw new RangeError(
        `Record plaintext of "${plaintext.length}" bytes exceeds ${MAX_RECORD_PLAINTEXT}`,
      );
    }
    if (output.length !== RECORD_HEADER + plaintext.length + TAG) {
      throw new RangeError(
        `Record output of "${output.length}" bytes does not fit a ${plaintext.length}-byte plaintext`,
      );
    }
    let flags = 0;
    const now = this.#clock?.now() ?? 0;
    if (
      this.#sentSinceRekey >= this.#rekeyAfterMessages ||
      (this.#clock !== undefined && now - this.#keyBornAt >= this.#rekeyAfterMs)
    ) {
      this.#send.rekey();
      this.#sentSinceRekey = 0;
      this.#keyBornAt = now;
      flags |= FLAG_REKEYED;
    }
    const header = output.subarray(0, RECORD_HEADER);
    header[0] = flags;
    writeCounter(header, this.#send.nonce);
    this.#send.encryptWithAd(
      header,
      plaintext,
      output.subarray(RECORD_HEADER),
    );
    this.#sentSinceRekey++;
  }

  /**
   * Decrypts one record. Any failure is a NoiseError ("bad-length",
   * "replay", "reorder", "decrypt-failed") and closes the transport.
   */
  open(record: Uint8Array): Uint8Array {
    this.#checkOpen();
    try {
      if (record.length < RECORD_HEADER + TAG || record.length > MAX_MESSAGE) {
        throw new NoiseError(
          "bad-length",
          `Record of "${record.length}" bytes`,
        );
      }
      const counter = readCounter(record);
      const expected = this.#receive.nonce;
      if (counter < expected) {
        throw new NoiseError("replay", `Record counter "${counter}" replayed`);
      }
      if (counter > expected) {
        throw new NoiseError(
          "reorder",
          `Record counter "${counter}" arrived before "${expected}"`,
        );
      }
      if (record[0] & FLAG_REKEYED) this.#receive.rekey();
      return this.#receive.decryptWithAd(
        record.subarray(0, RECORD_HEADER),
        record.subarray(RECORD_HEADER),
      );
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Zeroes both keys; idempotent. Later seal/open throw "closed". */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send.destroy();
    this.#receive.destroy();
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new NoiseError("closed", "Noise transport is closed");
    }
  }
}

function writeCounter(header: Uint8Array, n: number): void {
  const view = new DataView(header.buffer, header.byteOffset + 1, 8);
  view.setUint32(0, n >>> 0, true);
  view.setUint32(4, Math.floor(n / 0x1_0000_0000), true);
}

/** The counter as a number; values past 2^53 read as Infinity (a reorder). */
function readCounter(record: Uint8Array): number {
  const view = new DataView(record.buffer, record.byteOffset + 1, 8);
  const high = view.getUint32(4, true);
  if (high >= 0x20_0000) return Infinity;
  return high * 0x1_0000_0000 + view.getUint32(0, true);
}
