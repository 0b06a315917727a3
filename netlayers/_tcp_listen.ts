/**
 * What the TCP-based netlayers (tcp-testing-only, noise-tcp) share when they
 * start: a checked port, a listener, and the host/port hints a locator
 * carries (the real port when 0 was asked for).
 */

/** Listens on `host` (default 127.0.0.1) and `port` (default 0: any free one). */
export function listenTcp(
  options: { host?: string; port?: number },
): Deno.TcpListener {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port out of range: "${port}"`);
  }
  return Deno.listen({
    hostname: options.host ?? "127.0.0.1",
    port,
    transport: "tcp",
  });
}

/** The locator hints for a listener: where it really listens. */
export function tcpHints(listener: Deno.TcpListener): Record<string, string> {
  const addr = listener.addr;
  return { host: addr.hostname, port: String(addr.port) };
}
