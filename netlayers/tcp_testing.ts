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

import { dialTcp, hostPortOf, listenTcp, TcpAcceptLoop } from "./_host_port.ts";
import type { Connection, OCapNPeer } from "./types.ts";
import { expectTransport } from "./types.ts";
import type { FramingOptions } from "./types.ts";
import type { Framing } from "./base.ts";
import { StreamConnection } from "./stream_connection.ts";
import { ListeningNetlayer } from "./_listener.ts";

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

export class TcpTestingNetlayer extends ListeningNetlayer<StreamConnection> {
  readonly transport = TCP_TESTING_TRANSPORT;
  readonly location: OCapNPeer;
  readonly #options: TcpTestingOptions;
  readonly #acceptLoop: TcpAcceptLoop;

  private constructor(listener: Deno.TcpListener, options: TcpTestingOptions) {
    super();
    this.#options = options;
    this.#acceptLoop = new TcpAcceptLoop(
      listener,
      (conn) => this.accept(this.#wrap(conn, false)),
    );
    this.location = {
      transport: TCP_TESTING_TRANSPORT,
      designator: options.designator ?? randomDesignator(),
      hints: this.#acceptLoop.hints,
    };
  }

  /** Start listening. @throws {Deno.errors.AddrInUse} and the like from Deno.listen */
  static listen(options: TcpTestingOptions = {}): TcpTestingNetlayer {
    return new TcpTestingNetlayer(listenTcp(options), options);
  }

  async connect(peer: OCapNPeer): Promise<Connection> {
    expectTransport(peer, TCP_TESTING_TRANSPORT);
    const address = hostPortOf(peer.hints);
    this.checkOpen();
    const conn = await dialTcp(address);
    this.checkOpen(() => conn.close());
    return this.track(this.#wrap(conn, true));
  }

  protected async shutdown(): Promise<void> {
    await this.#acceptLoop.close();
    await this.closeConnections();
  }

  #wrap(conn: Deno.TcpConn, outbound: boolean): StreamConnection {
    return new StreamConnection(conn, {
      transport: TCP_TESTING_TRANSPORT,
      outbound,
      framing: this.#options.framing,
      maxLength: this.#options.maxLength,
      maxDepth: this.#options.maxDepth,
      lingerMs: this.#options.lingerMs,
    });
  }
}

function randomDesignator(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
