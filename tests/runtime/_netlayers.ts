/**
 * The netlayers the runtime tests run over, one line each (issue 6: every
 * CapTP and handoff scenario runs over every netlayer, the secure ones
 * included). Each entry makes a fresh `TestNetwork` per test.
 *
 * Noise-tcp, websocket and noise-udp nodes each get their own Ed25519 designator key;
 * that key only names the listener. A CapTP session signs its location with
 * a fresh key of its own (op:start-session), so the node never needs the
 * netlayer's identity.
 */

import type { KeyPair } from "../../protocol/crypto.ts";
import type { Connection, Netlayer, OCapNPeer } from "../../netlayers/types.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { MemoryNetwork, type TranscriptEntry } from "../../netlayers/memory.ts";
import { TcpTestingNetlayer } from "../../netlayers/tcp_testing.ts";
import { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
import { WebSocketNetlayer } from "../../netlayers/websocket.ts";
import { NoiseUdpNetlayer } from "../../netlayers/noise_udp.ts";
import { defaultCrypto as crypto } from "../../crypto/mod.ts";

/** Close waits this long for the peer's side: both sides always close here. */
const lingerMs = 50;

/**
 * UDP timings for tests: a peer that restarted or went away is noticed in
 * well under a second (a cached secret it no longer holds goes unacked for
 * the handshake deadline, 50 + 100 + 200 ms here, not the default 15 s).
 */
const udpTuning = {
  handshakeRetransmit: 50,
  handshakeAttempts: 3,
};

export interface TestNetwork {
  /**
   * A listening netlayer for the node called `name`. The same name again
   * listens where the first one did, with the same key: a restarted node.
   */
  listen(name: string): Netlayer;
  /** From now on, dialling `name` fails as if nobody listened there; live connections stay up. */
  unreachable(name: string): void;
  /** Every delivery, where the netlayer can record them (memory). */
  transcript?: readonly TranscriptEntry[];
}

/** What a netlayer needs to come back at the same place for the same name. */
interface Place {
  name: string;
  port: number;
  identity: KeyPair;
}

export const NETLAYERS: readonly (readonly [string, () => TestNetwork])[] = [
  [
    "tcp-testing-only",
    () =>
      network(({ name, port }) =>
        TcpTestingNetlayer.listen({ designator: name, port, lingerMs })
      ),
  ],
  ["memory", memoryNetwork],
  [
    "noise-tcp",
    () =>
      network(({ port, identity }) =>
        NoiseTcpNetlayer.listen({ port, identity, lingerMs })
      ),
  ],
  [
    "websocket",
    () =>
      network(({ port, identity }) =>
        WebSocketNetlayer.listen({ crypto, port, identity, lingerMs })
      ),
  ],
  [
    "noise-udp",
    () =>
      network(({ port, identity }) =>
        NoiseUdpNetlayer.listen({ port, identity, tuning: udpTuning })
      ),
  ],
];

/** The port a locator's hints name (host/port, or a ws: url). */
export function portOf(peer: OCapNPeer): number {
  const { port, url } = peer.hints;
  return Number(port ?? (url === undefined ? 0 : new URL(url).port));
}

function network(open: (place: Place) => Netlayer): TestNetwork {
  const places = new Map<string, Place>();
  const blocked = new Set<string>();
  return {
    listen(name) {
      const place = places.get(name) ??
        { name, port: 0, identity: crypto.ed25519.generateKeyPair() };
      const netlayer = refusing(open(place), blocked);
      places.set(name, { ...place, port: portOf(netlayer.location) });
      return netlayer;
    },
    unreachable(name) {
      const port = places.get(name)?.port;
      if (port === undefined) throw new TypeError(`No node "${name}"`);
      blocked.add(String(port));
    },
  };
}

function memoryNetwork(): TestNetwork {
  const memory = new MemoryNetwork({ record: true });
  return {
    listen: (name) => memory.netlayer(name),
    unreachable(name) {
      const netlayer = memory.lookup(name);
      if (netlayer === undefined) throw new TypeError(`No node "${name}"`);
      memory.forget(netlayer);
    },
    transcript: memory.transcript,
  };
}

/** `netlayer`, whose dials to a port in `blocked` fail as a dead port's would. */
function refusing(netlayer: Netlayer, blocked: Set<string>): Netlayer {
  return {
    transport: netlayer.transport,
    location: netlayer.location,
    connect(peer: OCapNPeer): Promise<Connection> {
      if (blocked.has(String(portOf(peer)))) {
        return Promise.reject(
          new ConnectFailedError(`Cannot connect to port "${portOf(peer)}"`),
        );
      }
      return netlayer.connect(peer);
    },
    onAccept: (handler) => netlayer.onAccept(handler),
    close: () => netlayer.close(),
  };
}
