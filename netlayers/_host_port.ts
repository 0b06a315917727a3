/**
 * What the host-and-port netlayers (tcp-testing-only, noise-tcp, noise-udp)
 * share: a checked port, a TCP listener, and the host/port hints a locator
 * carries (the real port when 0 was asked for), read back when dialling.
 */

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

/** The locator hints for a listener: where it really listens. */
export function tcpHints(listener: Deno.TcpListener): Record<string, string> {
  return hostPortHints(listener.addr);
}

/** Locator hints for a bound address. */
export function hostPortHints(
  addr: { hostname: string; port: number },
): Record<string, string> {
  return { host: addr.hostname, port: String(addr.port) };
}
