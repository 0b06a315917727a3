/**
 * A UDP peer address (README "UDP netlayer"). The pure endpoint keys its
 * half-open handshakes and cookies by it; the socket layer fills it from
 * Deno's `NetAddr`. Sessions are never keyed by address: a peer whose
 * address changes keeps its session once it authenticates.
 */

/** Where a datagram came from or goes to. */
export interface UdpAddress {
  readonly hostname: string;
  readonly port: number;
}

/** A stable string form, for maps and log lines (`[::1]:9` for IPv6). */
export function addressKey(address: UdpAddress): string {
  const { hostname, port } = address;
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}
