/**
 * The shared half of every connection: framing, decoding and the event
 * lifecycle, so that each netlayer only moves bytes.
 *
 * CapTP draft, "Netlayers"; shared/ocapn-notes.md, "tcp-testing-only":
 * stream transports need a frame boundary (bare Syrup or `<len>:`), and a
 * message that does not decode must reach the session as an error event so
 * it can send op:abort, never as an unhandled rejection.
 *
 * Lifecycle (three states):
 *   open    -> sends are written; input is decoded and delivered
 *   closing -> entered by close(), by a decode error, or by the transport
 *              ending; sends are dropped, input is discarded
 *   closed  -> the transport released its resources; `close` event fired
 * Invariants: the `close` event fires exactly once and last; `closed` never
 * rejects; no event is delivered after `close`; a decode error is followed
 * by exactly one `error` event and then by closing.
 */

import { SyrupStreamDecoder } from "../protocol/syrup/stream.ts";
import type { Framing } from "../protocol/syrup/stream.ts";
import { frameEncoded } from "../protocol/syrup/stream.ts";
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
} from "../protocol/syrup/decode.ts";
import type { SyrupValue } from "../protocol/syrup/value.ts";
import type { Connection, ConnectionEvents, FramingOptions } from "./types.ts";

export type { Framing };

/**
 * How messages are delimited: on a byte stream by the Syrup value itself
 * ("bare") or a `<len>:` prefix ("netstring"); "message" when the transport
 * already delimits them (a WebSocket frame, a UDP message object), so each
 * delivery is exactly one value and nothing is added on the wire.
 */
export type ConnectionFraming = Framing | "message";

export interface FramedConnectionOptions extends FramingOptions {
  transport: string;
  outbound: boolean;
  /** Default "bare". */
  framing?: ConnectionFraming;
}

const ascii = new TextEncoder();

type Backlogged =
  | { kind: "message"; value: SyrupValue }
  | { kind: "error"; error: Error };

type State = "open" | "closing" | "closed";

/**
 * Base of every netlayer connection. Subclasses call `receive` with each
 * chunk read and `transportEnded` when the transport stops, and implement
 * `transmit` (write one frame whole) and `shutdown` (flush, tell the peer,
 * release; must not reject).
 */
export abstract class FramedConnection implements Connection {
  readonly transport: string;
  readonly outbound: boolean;
  readonly framing: ConnectionFraming;
  readonly maxLength: number;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #decoder: SyrupStreamDecoder;
  #events: ConnectionEvents | undefined;
  #backlog: Backlogged[] = [];
  #state: State = "open";
  #reason: Error | undefined;

  constructor(options: FramedConnectionOptions) {
    this.transport = options.transport;
    this.outbound = options.outbound;
    this.framing = options.framing ?? "bare";
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    this.#decoder = new SyrupStreamDecoder({
      // A whole message is fed as a netstring of its own length, so trailing
      // or missing bytes are errors and no second decoder is needed.
      framing: this.framing === "message" ? "netstring" : this.framing,
      maxLength: this.maxLength,
      maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    });
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  get isClosed(): boolean {
    return this.#state !== "open";
  }

  attach(events: ConnectionEvents): void {
    if (this.#events) throw new TypeError("Connection is already attached");
    this.#events = events;
    const backlog = this.#backlog;
    this.#backlog = [];
    // What arrived before attach is replayed even if the connection has
    // closed since (its decode error included); only a handler closing it
    // during the replay stops it, as receive() stops once closing.
    const wasOpen = this.#state === "open";
    for (const item of backlog) {
      if (wasOpen && this.#state !== "open") break;
      if (item.kind === "message") this.#emitMessage(item.value);
      else this.#emitError(item.error);
    }
    if (this.#state === "closed") this.#emitClose();
  }

  send(message: Uint8Array): void {
    if (!(message instanceof Uint8Array)) {
      throw new TypeError("Message must be a Uint8Array");
    }
    if (message.length > this.maxLength) {
      throw new RangeError(
        `Message of ${message.length} bytes exceeds maxLength ${this.maxLength}`,
      );
    }
    if (this.#state !== "open") return;
    this.transmit(
      this.framing === "message"
        ? message
        : frameEncoded(message, this.framing),
    );
  }

  close(reason?: Error): Promise<void> {
    if (this.#state === "open") {
      this.#state = "closing";
      this.#reason = reason;
      this.#runShutdown();
    }
    return this.closed;
  }

  /** Feed bytes read from the transport, `chunk[0, length)`. Never throws. */
  protected receive(chunk: Uint8Array, length: number = chunk.length): void {
    if (this.#state !== "open") return;
    let result: { values: SyrupValue[]; error: Error | undefined };
    try {
      result = this.#decoder.push(chunk, length);
    } catch (error) {
      result = {
        values: [],
        error: error instanceof Error
          ? error
          : new SyntaxError(`Undecodable input: ${String(error)}`),
      };
    }
    // The records before any bad bytes are delivered first, then the error.
    for (const value of result.values) {
      if (this.#state !== "open") return;
      this.#emitMessage(value);
    }
    const failure = result.error;
    if (failure && this.#state === "open") {
      this.#emitError(failure);
      this.close(failure);
    }
  }

  /** Feed one whole message ("message" framing). Never throws. */
  protected receiveMessage(message: Uint8Array): void {
    this.receive(ascii.encode(`${message.length}:`));
    this.receive(message);
  }

  /** The transport ended by itself (end of input, reset, severed). Never throws. */
  protected transportEnded(reason?: Error): void {
    this.close(reason);
  }

  /** Write one frame (with "message" framing, one message) whole, after every one before it. */
  protected abstract transmit(frame: Uint8Array): void;

  /** Flush, tell the peer, release every resource. Must not reject. */
  protected abstract shutdown(): Promise<void>;

  async #runShutdown(): Promise<void> {
    try {
      await this.shutdown();
    } catch {
      // shutdown() must not reject; a transport that does is already gone.
    }
    this.#state = "closed";
    this.#emitClose();
    this.#resolveClosed();
  }

  #emitMessage(value: SyrupValue): void {
    const events = this.#events;
    if (!events) {
      this.#backlog.push({ kind: "message", value });
      return;
    }
    try {
      events.message(value);
    } catch (error) {
      this.#handlerFailed(error);
    }
  }

  #emitError(error: Error): void {
    const events = this.#events;
    if (!events) {
      this.#backlog.push({ kind: "error", error });
      return;
    }
    try {
      events.error(error);
    } catch (thrown) {
      this.#handlerFailed(thrown);
    }
  }

  #closeEmitted = false;
  #emitClose(): void {
    const events = this.#events;
    if (!events || this.#closeEmitted) return;
    this.#closeEmitted = true;
    try {
      events.close(this.#reason);
    } catch {
      // Nothing is left to report to: the connection is gone.
    }
  }

  #handlerFailed(error: unknown): void {
    this.close(
      error instanceof Error ? error : new Error(`Handler threw ${error}`),
    );
  }
}
