/**
 * Fixtures shared by the noise-tcp netlayer tests (noise_tcp_test.ts and
 * noise_tcp_attacks_test.ts): a listener closed with its registry checked,
 * a collector of inbound handshake failures, initiations stamped by hand,
 * a dialer whose every byte the test controls, and the conformance factory
 * (tests/netlayers/_conformance.ts).
 */

import assert from "node:assert/strict";
import {
  designatorKey,
  NOISE_TCP_PROLOGUE,
  NoiseTcpNetlayer,
  type NoiseTcpOptions,
} from "../../netlayers/noise_tcp.ts";
import { CookieInitiator } from "../../netlayers/noise/cookie.ts";
import { PeerInitiator } from "../../netlayers/noise/peer_handshake.ts";
import type { NoiseTransport } from "../../netlayers/noise/transport.ts";
import {
  encodeFrame,
  FRAME_INITIATION,
  FRAME_RESPONSE,
  FrameReader,
  sealRecords,
  writeAll,
} from "../../netlayers/_noise_tcp_wire.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import type { Clock } from "../../protocol/clock.ts";
import { ed25519PublicToX25519 } from "../../protocol/ed25519_to_x25519.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import type { PairOptions } from "./_conformance.ts";
import {
  accepting,
  connectedPair,
  dialPort,
  drained,
} from "./_netlayer_fixtures.ts";
import { makeIdentity } from "./noise/_fixtures.ts";

/** Runs `fn` against a fresh listener, then closes it and checks its registry. */
export async function withServer(
  options: NoiseTcpOptions,
  fn: (server: NoiseTcpNetlayer) => Promise<void>,
): Promise<void> {
  const server = NoiseTcpNetlayer.listen(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
  assert.equal(server.registry.stats().live, 0);
}

/** Collects inbound handshake failures, resolving each waiter in turn. */
export function failures() {
  const seen: Error[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    onHandshakeFailure: (error: Error) => {
      seen.push(error);
      wake?.();
    },
    async next(n = 1): Promise<Error> {
      while (seen.length < n) await new Promise<void>((r) => wake = r);
      return seen[n - 1];
    },
  };
}

/**
 * A first handshake message to `server` with a valid mac1, as a dialer
 * would send it: IK towards the server's key, or, with `xx`, XX with the
 * all-zero mac1 key of a dialer that knows no key.
 */
export function stampedInitiation(
  server: NoiseTcpNetlayer,
  options: { xx?: boolean; clock?: Clock } = {},
): { initiator: PeerInitiator; stamped: Uint8Array } {
  const remote = options.xx
    ? undefined
    : designatorKey(server.location.designator);
  const initiator = new PeerInitiator(nativeCrypto, {
    identity: makeIdentity(),
    remoteIdentity: remote,
    prologue: NOISE_TCP_PROLOGUE,
  });
  const stamped = new CookieInitiator(nativeCrypto, {
    remoteStaticPublicKey: remote
      ? ed25519PublicToX25519(remote)
      : new Uint8Array(32),
    clock: options.clock ?? new ManualClock(0),
  }).stamp(initiator.start());
  return { initiator, stamped };
}

/** A dialer under the test's control: IK done by hand, records sealed by hand. */
export async function rawDial(server: NoiseTcpNetlayer) {
  const conn = await dialPort(server);
  const { initiator, stamped } = stampedInitiation(server);
  const sent: Uint8Array[] = [];
  const send = async (bytes: Uint8Array) => {
    sent.push(bytes);
    await writeAll(conn, bytes);
  };
  await send(encodeFrame(FRAME_INITIATION, stamped));
  const reader = new FrameReader(conn);
  const reply = await reader.next();
  assert.equal(reply?.type, FRAME_RESPONSE);
  const { established } = initiator.receive(reply!.body.slice());
  const transport: NoiseTransport = established.transport;
  await send(sealRecords(transport, new Uint8Array(0)));
  const peerClosed = drained(() => reader.next());
  let closed = false;
  return {
    conn,
    transport,
    sent,
    send,
    peerClosed,
    async close() {
      if (!closed) {
        closed = true;
        conn.close();
        transport.close();
      }
      await peerClosed;
    },
  };
}

export const factory = {
  stream: true,
  framing: "bare" as const,
  makePair(options: PairOptions = {}) {
    const server = NoiseTcpNetlayer.listen({
      maxLength: options.serverMaxLength,
    });
    const client = NoiseTcpNetlayer.listen();
    return connectedPair(server, client, () => {
      assert.equal(server.registry.stats().live, 0);
      assert.equal(client.registry.stats().live, 0);
    });
  },
  async makeRawPair(options: PairOptions = {}) {
    const server = NoiseTcpNetlayer.listen({
      maxLength: options.serverMaxLength,
    });
    const accepted = accepting(server);
    const raw = await rawDial(server);
    return {
      server: await accepted,
      // The raw side's bytes are the server's plaintext input, one record per write.
      writeRaw: (bytes: Uint8Array) =>
        raw.send(sealRecords(raw.transport, bytes)),
      peerClosed: raw.peerClosed,
      closeRaw: () => raw.close(),
      dispose: () => server.close(),
    };
  },
};
