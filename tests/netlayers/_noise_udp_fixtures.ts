/**
 * Fixtures for the noise-udp netlayer tests (tests/netlayers/noise_udp_test.ts):
 * the conformance factory and helpers that close netlayers and check that
 * each left its registry empty.
 */
import assert from "node:assert/strict";
import { designatorKey } from "../../netlayers/noise_tcp.ts";
import { NoiseUdpNetlayer } from "../../netlayers/noise_udp.ts";
import type { Connection } from "../../netlayers/types.ts";
import type { PairOptions } from "./_conformance.ts";

/** The conformance suite sends 4 MiB messages; the default limit is 2 MiB. */
const roomy = { data: { maxMessageBytes: 5 * 1024 * 1024 } };

export function accepting(netlayer: NoiseUdpNetlayer): Promise<Connection> {
  return new Promise((resolve) => netlayer.onAccept(resolve));
}

export function addressOf(netlayer: NoiseUdpNetlayer) {
  return {
    hostname: netlayer.location.hints.host,
    port: Number(netlayer.location.hints.port),
  };
}

/** Closes every netlayer, then checks each left its registry empty. */
export async function closeAll(
  ...netlayers: NoiseUdpNetlayer[]
): Promise<void> {
  await Promise.all(netlayers.map((n) => n.close()));
  for (const netlayer of netlayers) {
    assert.equal(netlayer.registry.stats().live, 0);
    assert.equal(netlayer.endpoint.stats().sessions, 0);
  }
}

export const factory = {
  stream: false,
  framing: "bare" as const,
  async makePair(options: PairOptions = {}) {
    const server = NoiseUdpNetlayer.listen({
      maxLength: options.serverMaxLength,
      tuning: roomy,
    });
    const client = NoiseUdpNetlayer.listen({ tuning: roomy });
    const accepted = accepting(server);
    const clientConnection = await client.connect(server.location);
    return {
      client: clientConnection,
      server: await accepted,
      dispose: () => closeAll(client, server),
    };
  },
  async makeRawPair(options: PairOptions = {}) {
    const server = NoiseUdpNetlayer.listen({
      maxLength: options.serverMaxLength,
    });
    // The raw side is a bare endpoint session: each send is one message
    // object, delivered to the server's connection exactly as given.
    const raw = NoiseUdpNetlayer.listen();
    const accepted = accepting(server);
    const session = await raw.endpoint.connect({
      key: designatorKey(server.location.designator),
      address: addressOf(server),
    });
    const peerClosed = new Promise<void>((resolve) =>
      session.attach({ message() {}, close: () => resolve() })
    );
    return {
      server: await accepted,
      writeRaw(bytes: Uint8Array) {
        session.send(bytes);
        return Promise.resolve();
      },
      peerClosed,
      closeRaw() {
        session.close();
        return Promise.resolve();
      },
      dispose: () => closeAll(raw, server),
    };
  },
};
