/**
 * The netlayer contract: what CapTP needs from a transport.
 *
 * CapTP draft, "Netlayers": a netlayer carries whole CapTP messages between
 * two peers named by OCapN peer locators; it knows nothing of sessions. This
 * file is the whole contract; netlayers/base.ts wraps it around a decoder so
 * each transport only moves bytes (the shape of Goblins' base-port, in the
 * words of STYLE.md "Layers you can see from the folder list").
 *
 * Delivery model: a connection hands its consumer whole decoded Syrup values,
 * synchronously and in order, through one `ConnectionEvents` object, which
 * suits a CapTP session driven by a sync `handleMessage(value)`. Events that
 * happen before `attach` are kept and replayed, so an accepted connection
 * never loses its first message while the runtime looks the peer up.
 */

import type { SyrupValue } from "../protocol/syrup/value.ts";
import type { OCapNPeer } from "../protocol/locator.ts";

export type { OCapNPeer };

/** What a connection reports. Called synchronously; exceptions thrown by a handler close the connection. */
export interface ConnectionEvents {
  /** One whole message, decoded. */
  message(value: SyrupValue): void;
  /**
   * Input that cannot be decoded (SyntaxError, with the byte offset) or is too
   * large. The netlayer stops reading and closes the connection right after
   * this call returns; a `send` made inside the handler (op:abort) still goes out.
   */
  error(error: Error): void;
  /** Called once, when the connection is fully closed; `reason` is absent for a clean local close. */
  close(reason?: Error): void;
}

/** One transport-level connection carrying CapTP messages both ways. */
export interface Connection {
  /** The transport name, as in locators (`tcp-testing-only`, `memory`, ...). */
  readonly transport: string;
  /** True when this side dialled; crossed-hellos mitigation needs to know which side opened it. */
  readonly outbound: boolean;
  /** Whether `close` has begun or the connection ended; later sends are dropped. */
  readonly isClosed: boolean;
  /** Settles (never rejects) once the connection is closed and its resources are released. */
  readonly closed: Promise<void>;
  /** Starts delivery to `events`, replaying anything that arrived before. Once per connection. */
  attach(events: ConnectionEvents): void;
  /**
   * Queue one message: `message` is exactly one encoded Syrup value, unframed.
   * The netlayer adds framing and writes it whole. After close it is a no-op.
   * @throws {RangeError} when the framed message exceeds the netlayer's maxLength
   */
  send(message: Uint8Array): void;
  /**
   * Close: flush what was sent, tell the peer, release resources. Idempotent;
   * `reason` is reported to this side's `close` event.
   */
  close(reason?: Error): Promise<void>;
}

/** A listening endpoint for one transport. */
export interface Netlayer {
  readonly transport: string;
  /** Where peers reach us (for tcp-testing-only, the real port even when listening on port 0). */
  readonly location: OCapNPeer;
  /**
   * Dial `peer`.
   * @throws {TypeError} when `peer.transport` is not this netlayer's
   * @throws {ConnectFailedError} when nobody answers there
   */
  connect(peer: OCapNPeer): Promise<Connection>;
  /** Sets the handler for inbound connections; those accepted before it was set are handed over at once. */
  onAccept(handler: (connection: Connection) => void): void;
  /** Stops listening and closes every connection this netlayer made or accepted. Idempotent. */
  close(): Promise<void>;
}

/** Limits shared by every framed netlayer. */
export interface FramingOptions {
  /** Largest message (and frame) accepted or sent, in bytes (default 16 MiB). */
  maxLength?: number;
  /** Deepest nesting inside one message (default 128). */
  maxDepth?: number;
}

/**
 * The check every `Netlayer.connect` makes first.
 * @throws {TypeError} when `peer` names another transport than `transport`
 */
export function expectTransport(peer: OCapNPeer, transport: string): void {
  if (peer.transport !== transport) {
    throw new TypeError(
      `Locator transport "${peer.transport}" is not ${transport}`,
    );
  }
}
