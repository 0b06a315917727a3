/**
 * Fixtures every netlayer test over real sockets needs: the listener's next
 * accepted connection as a promise, the connected pair the conformance suite
 * asks for (tests/netlayers/_conformance.ts, "makePair"), and a plain TCP
 * socket to a loopback listener, for tests that play the peer by hand.
 */

import assert from "node:assert/strict";
import type { Connection, Netlayer } from "../../netlayers/types.ts";
import type { ConformancePair } from "./_conformance.ts";

/** A listening netlayer on the shared base, which counts its connections. */
export interface CountingNetlayer extends Netlayer {
  readonly connectionCount: number;
}

/** The next connection `netlayer` accepts. */
export function accepting(
  netlayer: Pick<Netlayer, "onAccept">,
): Promise<Connection> {
  return new Promise((resolve) => netlayer.onAccept(resolve));
}

/**
 * `client` dials `server`; `dispose()` closes both netlayers, checks that
 * neither kept a connection, then runs `afterClose` for the transport's own
 * checks (a registry left empty, say).
 */
export async function connectedPair(
  server: CountingNetlayer,
  client: CountingNetlayer,
  afterClose?: () => void,
): Promise<ConformancePair> {
  const accepted = accepting(server);
  const clientConnection = await client.connect(server.location);
  return {
    client: clientConnection,
    server: await accepted,
    async dispose() {
      await Promise.all([client.close(), server.close()]);
      assert.equal(client.connectionCount + server.connectionCount, 0);
      afterClose?.();
    },
  };
}

/** The port hint of a loopback TCP listener's location, as a number. */
export function portOf(netlayer: Netlayer): number {
  return Number(netlayer.location.hints.port);
}

/** A TCP socket to the loopback port that `netlayer` advertises. */
export function dialPort(netlayer: Netlayer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: portOf(netlayer) });
}

/**
 * Reads with `read` until the end of input and then settles: the raw side's
 * view of the server closing. An error (the socket closed locally, or cut)
 * counts as the end too.
 */
export async function drained(
  read: () => Promise<unknown | null>,
): Promise<void> {
  try {
    while (await read() !== null) { /* discard */ }
  } catch { /* closed locally or cut */ }
}
