/**
 * The `tcp-testing-only` netlayer: cleartext CapTP over TCP.
 *
 * shared/ocapn-notes.md, "Netlayers": locator
 * `<ocapn-peer tcp-testing-only "<any designator>" {"host" h "port" p}>`;
 * no authentication, no encryption, so it exists only to run the official
 * test suite and local experiments. The stored suite sends bare
 * concatenated Syrup; Endo and newer suite work prefix `<len>:`. Framing is
 * chosen per netlayer and applies to every connection it makes or accepts.
 */

import { hostPortOf, listenTcp, tcpHints } from "./_host_port.ts";
import type { Connection, Netlayer, OCapNPeer } from "./types.ts";
import { expectTransport } from "./types.ts";
import type { FramingOptions } from "./types.ts";
import type { Framing } from "./base.ts";
import { StreamConnection } from "./stream_connection.ts";
import { ConnectFailedError } from "./errors.ts";
import { AcceptQueue } from "./_accept_queue.ts";

export const TCP_TESTING_TRANSPORT = "tcp-testing-only";

export interface TcpTestingOptions extends FramingOptions {
  /** Address to listen on and to advertise (default "127.0.0.1"). */
  host?: string;
  /** Port to listen on; 0 picks a free one, which the location reports (default 0). */
  port?: number;
  /** The designator to advertise; the protocol ignores it for this transport (default random hex). */
  designator?: string;
  /** "bare" (the stored test suite) or "netstring" (`<len>:`, Endo). Default "bare". */
  framing?: Framing;
  /** How long close waits for the peer to close its side (default 2000 ms). */
  lingerMs?: number;
}

export class TcpTestingNetlayer implements Netlayer {
  readonly transport = TCP_TESTING_TRANSPORT;
  readonly location: OCapNPeer;
  readonly #listener: Deno.TcpListener;
  readonly #options: TcpTestingOptions;
  readonly #connections = new Set<StreamConnection>();
  readonly #accepted = new AcceptQueue();
  readonly #acceptLoop: Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(listener: Deno.TcpListener, options: TcpTestingOptions) {
    this.#listener = listener;
    this.#options = options;
    this.location = {
      transport: TCP_TESTING_TRANSPORT,
      designator: options.designator ?? randomDesignator(),
      hints: tcpHints(listener),
    };
    this.#acceptLoop = this.#runAcceptLoop();
  }

  /** Start listening. @throws {Deno.errors.AddrInUse} and the like from Deno.listen */
  static listen(options: TcpTestingOptions = {}): TcpTestingNetlayer {
    return new TcpTestingNetlayer(listenTcp(options), options);
  }

  /** Connections currently open (made or accepted). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  async connect(peer: OCapNPeer): Promise<Connection> {
    expectTransport(peer, TCP_TESTING_TRANSPORT);
    const { host, port } = hostPortOf(peer.hints);
    if (this.#closing) {
      throw new ConnectFailedError("Netlayer is closed");
    }
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
    } catch (error) {
      throw new ConnectFailedError(`Cannot connect to "${host}:${port}"`, {
        cause: error,
      });
    }
    if (this.#closing) {
      conn.close();
      throw new ConnectFailedError("Netlayer is closed");
    }
    return this.#adopt(conn, true);
  }

  onAccept(handler: (connection: Connection) => void): void {
    this.#accepted.setHandler(handler);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#acceptLoop;
    await Promise.all([...this.#connections].map((c) => c.close()));
  }

  async #runAcceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // The listener was closed.
      }
      if (this.#closing) {
        conn.close();
        return;
      }
      this.#accepted.push(this.#adopt(conn, false));
    }
  }

  #adopt(conn: Deno.TcpConn, outbound: boolean): StreamConnection {
    try {
      conn.setNoDelay(true);
    } catch {
      // Not every platform lets us; latency only.
    }
    const connection = new StreamConnection(conn, {
      transport: TCP_TESTING_TRANSPORT,
      outbound,
      framing: this.#options.framing,
      maxLength: this.#options.maxLength,
      maxDepth: this.#options.maxDepth,
      lingerMs: this.#options.lingerMs,
    });
    this.#connections.add(connection);
    connection.closed.then(() => this.#connections.delete(connection));
    return connection;
  }
}

function randomDesignator(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
