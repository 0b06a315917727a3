/**
 * What the host-and-port netlayers (tcp-testing-only, noise-tcp, noise-udp)
 * share: a checked port, a TCP listener and its accept loop, a TCP dial, and
 * the host/port hints a locator carries (the real port when 0 was asked
 * for), read back when dialling.
 */

import { ConnectFailedError } from "./errors.ts";

/** Listens on `host` (default 127.0.0.1) and `port` (default 0: any free one). */
export function listenTcp(
  options: { host?: string; port?: number },
): Deno.TcpListener {
  return Deno.listen({
    hostname: options.host ?? "127.0.0.1",
    port: checkedPort(options.port),
    transport: "tcp",
  });
}

/** `port` (default 0), or a RangeError naming it. */
export function checkedPort(port = 0): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port out of range: "${port}"`);
  }
  return port;
}

/**
 * Where a locator's hints say to dial.
 * @throws {TypeError} when they lack a host or a valid port
 */
export function hostPortOf(
  hints: Record<string, string> | undefined,
): { host: string; port: number } {
  const host = hints?.host;
  const port = Number(hints?.port);
  if (typeof host !== "string" || !Number.isInteger(port) || port <= 0) {
    throw new TypeError(
      `Locator lacks host and port hints: "${JSON.stringify(hints)}"`,
    );
  }
  return { host, port };
}

/** Locator hints for a bound address. */
export function hostPortHints(
  addr: { hostname: string; port: number },
): Record<string, string> {
  return { host: addr.hostname, port: String(addr.port) };
}

/**
 * A TCP listener's accept loop: each socket, no-delay set, goes to
 * `onSocket` until `close()`, which stops listening and waits the loop out
 * (a socket accepted while closing is closed, not handed on).
 */
export class TcpAcceptLoop {
  /** The locator hints: where the listener really listens. */
  readonly hints: Record<string, string>;
  readonly #listener: Deno.TcpListener;
  readonly #loop: Promise<void>;
  #closed = false;

  constructor(
    listener: Deno.TcpListener,
    onSocket: (conn: Deno.TcpConn) => void,
  ) {
    this.#listener = listener;
    this.hints = hostPortHints(listener.addr);
    this.#loop = this.#run(onSocket);
  }

  async close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#loop;
  }

  async #run(onSocket: (conn: Deno.TcpConn) => void): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // The listener was closed.
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      setNoDelay(conn);
      onSocket(conn);
    }
  }
}

/**
 * Dials TCP, no-delay set.
 * @throws {ConnectFailedError} when nobody answers at `address`
 */
export async function dialTcp(
  address: { host: string; port: number },
): Promise<Deno.TcpConn> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: address.host, port: address.port });
  } catch (error) {
    throw new ConnectFailedError(
      `Cannot connect to "${address.host}:${address.port}"`,
      { cause: error },
    );
  }
  setNoDelay(conn);
  return conn;
}

function setNoDelay(conn: Deno.TcpConn): void {
  try {
    conn.setNoDelay(true);
  } catch {
    // Not every platform lets us; latency only.
  }
}
