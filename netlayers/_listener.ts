/**
 * What every socket netlayer does around its own transport (netlayers/types.ts,
 * `Netlayer`): it keeps each connection it made or accepted until that one
 * closes, and the dials and handshakes in flight, so `close()` can wait those
 * out and end every connection (the peer sees the close); it hands inbound
 * connections to `onAccept`, keeping those that arrive before a handler is
 * set, so a listener can start before the runtime is wired to it; it
 * refuses dials once closing; and it closes exactly once. A netlayer adds only how it listens, dials and
 * releases what it holds (`shutdown`).
 */

import type { Connection, Netlayer, OCapNPeer } from "./types.ts";
import { ConnectFailedError } from "./errors.ts";

export abstract class ListeningNetlayer<C extends Connection>
  implements Netlayer {
  abstract readonly transport: string;
  abstract readonly location: OCapNPeer;
  abstract connect(peer: OCapNPeer): Promise<Connection>;
  readonly #connections = new Set<C>();
  #handler: ((connection: Connection) => void) | undefined;
  /** Accepted before `onAccept` was called. */
  #waiting: Connection[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  /** Connections currently open (made or accepted). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  onAccept(handler: (connection: Connection) => void): void {
    if (typeof handler !== "function") {
      throw new TypeError("Accept handler must be a function");
    }
    this.#handler = handler;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const connection of waiting) this.#hand(connection);
  }

  close(): Promise<void> {
    this.#closing ??= this.shutdown();
    return this.#closing;
  }

  /** Stops listening and releases the transport, calling `closeConnections()` where it must; run once. */
  protected abstract shutdown(): Promise<void>;

  /** Whether `close()` has begun. */
  protected get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * A dial's check before it starts and once it holds a socket, which `release` frees.
   * @throws {ConnectFailedError} once `close()` has begun
   */
  protected checkOpen(release?: () => void): void {
    if (this.#closing === undefined) return;
    release?.();
    throw new ConnectFailedError("Netlayer is closed");
  }

  /** Keeps `connection` until it closes, so `close()` ends it too. */
  protected track(connection: C): C {
    this.#connections.add(connection);
    connection.closed.then(() => this.#connections.delete(connection));
    return connection;
  }

  /** Keeps an inbound connection and hands it to the `onAccept` handler. */
  protected accept(connection: C): void {
    this.track(connection);
    if (this.#handler) this.#hand(connection);
    else this.#waiting.push(connection);
  }

  /** Keeps a dial or handshake until it settles, so `closeConnections()` waits for it. */
  protected inFlight<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const forget = () => this.#inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Waits out the work in flight, then closes every connection; the peers see them close. */
  protected async closeConnections(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    await Promise.all([...this.#connections].map((c) => c.close()));
  }

  #hand(connection: Connection): void {
    try {
      this.#handler!(connection);
    } catch (error) {
      // A handler that throws has not taken the connection: drop it.
      connection.close(
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  }
}
