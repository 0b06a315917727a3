/**
 * A FramedConnection over a standard `WebSocket` whose designator proof is
 * done (netlayers/_websocket_auth.ts): both the dialled socket and the one
 * Deno.upgradeWebSocket hands the server are this object, so one class
 * serves both sides, and it uses no Deno API (a browser client uses it too).
 *
 * OCapN issue 150, Goblins websocket.scm (`^websocket-captp-io`), Endo
 * websocket.js: one Syrup message per binary frame, nothing else in it.
 * WebSocket already delimits messages, so a frame is decoded as exactly one
 * value: two values in one frame, half a value, a text frame or a frame over
 * maxLength is an error event and then close, as bad input is on every
 * netlayer (netlayers/base.ts).
 *
 * How a frame reaches the shared decoder: the base decodes through a stream
 * decoder; fed with netstring framing and the frame's length as the prefix,
 * it decodes the frame as one whole value and rejects trailing or missing
 * bytes, so no second decoder is needed. Sends skip the prefix (`send` is
 * overridden), so nothing but the message goes on the wire.
 */

import { FramedConnection } from "./base.ts";
import type { ConnectionEvents, FramingOptions } from "./types.ts";
import { ConnectionClosedError } from "./errors.ts";
import { WEBSOCKET_TRANSPORT } from "./_websocket_auth.ts";

/** Cancels a scheduled call. */
export type Cancel = () => void;
/** Runs `fn` after `ms` (a real timer, or an injected Clock in tests). */
export type Schedule = (ms: number, fn: () => void) => Cancel;

export interface WebSocketConnectionOptions extends FramingOptions {
  outbound: boolean;
  schedule: Schedule;
  /** How long close waits for the peer's close frame (default 2000 ms). */
  lingerMs?: number;
}

const CLOSED = 3;
const ascii = new TextEncoder();

export class WebSocketConnection extends FramedConnection {
  readonly #ws: WebSocket;
  readonly #schedule: Schedule;
  readonly #lingerMs: number;
  readonly #ended: Promise<void>;
  #events: ConnectionEvents | undefined;
  /** A failure found here (not by the decoder) before `attach`. */
  #pendingError: Error | undefined;
  #closeText = "";

  constructor(ws: WebSocket, options: WebSocketConnectionOptions) {
    super({
      transport: WEBSOCKET_TRANSPORT,
      outbound: options.outbound,
      framing: "netstring",
      maxLength: options.maxLength,
      maxDepth: options.maxDepth,
    });
    this.#ws = ws;
    this.#schedule = options.schedule;
    this.#lingerMs = options.lingerMs ?? 2000;
    ws.binaryType = "arraybuffer";
    let ended!: () => void;
    this.#ended = new Promise((resolve) => ended = resolve);
    ws.addEventListener("message", (event) => this.#onFrame(event.data));
    ws.addEventListener("close", (event) => {
      ended();
      if (this.isClosed) return;
      const why = event.reason ? `: "${event.reason}"` : "";
      this.transportEnded(
        new ConnectionClosedError(
          `Peer closed the connection (code ${event.code})${why}`,
        ),
      );
    });
    if (ws.readyState === CLOSED) {
      ended();
      this.transportEnded(new ConnectionClosedError("Connection was closed"));
    }
  }

  /**
   * Errors found here (a text frame, a frame over maxLength) are reported
   * through the same events as the decoder's, so the consumer is wrapped:
   * one of ours that came before `attach` is delivered right after the
   * replayed messages and before `close`, the order the base keeps.
   */
  override attach(events: ConnectionEvents): void {
    if (this.#events) throw new TypeError("Connection is already attached");
    this.#events = events;
    super.attach({
      message: (value) => events.message(value),
      error: (error) => {
        // The decoder's errors come through here just before close.
        this.#closeText ||= "undecodable frame";
        events.error(error);
      },
      close: (reason) => {
        this.#flushPendingError();
        events.close(reason);
      },
    });
    this.#flushPendingError();
  }

  /** As the base's, minus the frame prefix: a WebSocket frame is the message. */
  override send(message: Uint8Array): void {
    if (!(message instanceof Uint8Array)) {
      throw new TypeError("Message must be a Uint8Array");
    }
    if (message.length > this.maxLength) {
      throw new RangeError(
        `Message of ${message.length} bytes exceeds maxLength ${this.maxLength}`,
      );
    }
    if (this.isClosed) return;
    this.#ws.send(message);
  }

  protected transmit(frame: Uint8Array): void {
    // Only reached if a caller bypasses `send`: drop the `<len>:` prefix.
    const colon = frame.indexOf(0x3a);
    this.#ws.send(frame.subarray(colon + 1));
  }

  protected async shutdown(): Promise<void> {
    const ws = this.#ws;
    if (ws.readyState !== CLOSED) {
      // Frames already sent go out before the close frame. Browsers allow
      // only 1000 and 3000-4999 from script, so failures say why in text.
      try {
        ws.close(1000, this.#closeText);
      } catch {
        // Already closing.
      }
    }
    let cancel: Cancel | undefined;
    const linger = new Promise<void>((resolve) => {
      cancel = this.#schedule(this.#lingerMs, resolve);
    });
    await Promise.race([this.#ended, linger]);
    cancel?.();
  }

  #onFrame(data: unknown): void {
    if (this.isClosed) return;
    if (!(data instanceof ArrayBuffer)) {
      this.#fail(
        new TypeError("Text frame received where Syrup frames are binary"),
        "text frame",
      );
      return;
    }
    if (data.byteLength > this.maxLength) {
      this.#fail(
        new RangeError(
          `Frame of ${data.byteLength} bytes exceeds maxLength ${this.maxLength}`,
        ),
        "frame too long",
      );
      return;
    }
    this.receive(ascii.encode(`${data.byteLength}:`));
    this.receive(new Uint8Array(data));
  }

  #fail(error: Error, closeText: string): void {
    this.#closeText = closeText;
    if (this.#events) this.#deliverError(error);
    else this.#pendingError = error;
    this.close(error);
  }

  #flushPendingError(): void {
    const error = this.#pendingError;
    if (!error) return;
    this.#pendingError = undefined;
    this.#deliverError(error);
  }

  #deliverError(error: Error): void {
    try {
      this.#events!.error(error);
    } catch (thrown) {
      this.close(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }
}
