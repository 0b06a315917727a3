/**
 * Fixtures shared by the websocket netlayer tests: netlayers on real
 * loopback sockets, raw WebSockets under the test's control, a fake server
 * whose answer to the challenge the test chooses, and the conformance
 * factory (tests/netlayers/_conformance.ts). What is not websocket-specific
 * (accepting, connectedPair) is in tests/netlayers/_netlayer_fixtures.ts.
 */

import {
  WebSocketNetlayer,
  type WebSocketNetlayerOptions,
} from "../../netlayers/websocket.ts";
import {
  makeChallenge,
  verifyAnswer,
} from "../../netlayers/_websocket_auth.ts";
import { defaultCrypto } from "../../crypto/mod.ts";
import { decodeBase32 } from "../../protocol/base32.ts";
import type { PairOptions } from "./_conformance.ts";
import { accepting, connectedPair } from "./_netlayer_fixtures.ts";

export const crypto = defaultCrypto;

export function listen(options: Partial<WebSocketNetlayerOptions> = {}) {
  return WebSocketNetlayer.listen({ crypto, ...options });
}

export function event<K extends keyof WebSocketEventMap>(
  ws: WebSocket,
  type: K,
): Promise<WebSocketEventMap[K]> {
  return new Promise((resolve) =>
    ws.addEventListener(type, resolve, { once: true })
  );
}

/** A WebSocket under the test's control, opened to `url` (no proof run yet). */
export async function rawSocket(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const closed = event(ws, "close");
  await event(ws, "open");
  return {
    ws,
    closed,
    async close() {
      ws.close();
      await closed;
    },
  };
}

/** A raw socket that has run the client's half of the proof against `netlayer`. */
export async function authenticatedRawSocket(netlayer: WebSocketNetlayer) {
  const raw = await rawSocket(netlayer.location.hints.url);
  const challenge = makeChallenge(crypto);
  const answer = event(raw.ws, "message");
  raw.ws.send(challenge);
  const { data } = await answer;
  verifyAnswer(data, {
    crypto,
    challenge,
    publicKey: decodeBase32(netlayer.location.designator),
  });
  return raw;
}

/**
 * A plain Deno.serve websocket server whose answer to each frame the test
 * chooses ("" sends nothing); `socket` lets a test send more or close.
 */
export function fakeServer(
  answer: (challenge: Uint8Array, socket: WebSocket) => Uint8Array | string,
) {
  const sockets: Promise<unknown>[] = [];
  let challenged!: () => void;
  const gotChallenge = new Promise<void>((resolve) => challenged = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.binaryType = "arraybuffer";
      sockets.push(event(socket, "close"));
      socket.onmessage = (e) => {
        challenged();
        const reply = answer(new Uint8Array(e.data as ArrayBuffer), socket);
        if (reply !== "") socket.send(reply);
      };
      return response;
    },
  );
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    gotChallenge,
    async close() {
      await server.shutdown();
      await server.finished;
      await Promise.all(sockets);
    },
  };
}

export const factory = {
  stream: false,
  framing: "bare" as const,
  makePair: (options: PairOptions = {}) =>
    connectedPair(listen({ maxLength: options.serverMaxLength }), listen()),
  async makeRawPair(options: PairOptions = {}) {
    const server = listen({ maxLength: options.serverMaxLength });
    const accepted = accepting(server);
    const raw = await authenticatedRawSocket(server);
    return {
      server: await accepted,
      writeRaw(bytes: Uint8Array) {
        raw.ws.send(bytes);
        return Promise.resolve();
      },
      peerClosed: raw.closed.then(() => {}),
      closeRaw: () => raw.close(),
      dispose: () => server.close(),
    };
  },
};
