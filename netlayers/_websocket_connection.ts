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
 * The base's "message" framing decodes each frame as one whole value and
 * puts nothing but the message on the wire.
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
      framing: "message",
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

  protected transmit(message: Uint8Array): void {
    this.#ws.send(message);
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
    this.receiveMessage(new Uint8Array(data));
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
