/**
 * Dialling a websocket peer: open the socket at the locator's `url` hint,
 * run the designator proof (netlayers/_websocket_auth.ts) and hand back a
 * connection only once the server has proved it holds the key the
 * designator names.
 *
 * OCapN issue 150; Goblins websocket.scm (`open-websocket`), Endo
 * websocket.js lines 329-426. The locator is
 * `<ocapn-peer websocket "<base32 Ed25519 key>" {"url" "ws://host:port"}>`;
 * the url is used verbatim, as both references do.
 *
 * Only the standard `WebSocket` global and injected crypto and time are
 * used, no Deno API, so this module runs in a browser as it is.
 */

import type { CryptoProvider } from "../protocol/crypto.ts";
import type { Clock } from "../protocol/clock.ts";
import type { FramingOptions, OCapNPeer } from "./types.ts";
import { expectTransport } from "./types.ts";
import { ConnectFailedError } from "./errors.ts";
import {
  designatorKey,
  makeChallenge,
  verifyAnswer,
  WEBSOCKET_TRANSPORT,
} from "./_websocket_auth.ts";
import { type Schedule, WebSocketConnection } from "./_websocket_connection.ts";

export { WebSocketConnection };

export interface WebSocketDialOptions extends FramingOptions {
  /** Signature checks and the challenge's random bytes. */
  crypto: CryptoProvider;
  /** Time source for the deadlines (default: real timers). */
  clock?: Clock;
  /** How long the server has to open the socket and prove its key (default 10000 ms). */
  handshakeTimeoutMs?: number;
  /** How long close waits for the peer's close frame (default 2000 ms). */
  lingerMs?: number;
  /** Aborting gives up the dial: ConnectFailedError once the socket is closed. */
  signal?: AbortSignal;
}

/** Deadlines on the injected clock, or on real timers when there is none. */
export function scheduler(clock: Clock | undefined): Schedule {
  if (clock) return (ms, fn) => clock.schedule(clock.now() + ms, fn);
  return (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  };
}

/** The `url` hint, checked. @throws {TypeError} when absent or not ws:/wss: */
export function peerUrl(peer: OCapNPeer): string {
  expectTransport(peer, WEBSOCKET_TRANSPORT);
  const url = peer.hints?.url;
  let scheme: string | undefined;
  try {
    scheme = typeof url === "string" ? new URL(url).protocol : undefined;
  } catch {
    // Reported below.
  }
  if (scheme !== "ws:" && scheme !== "wss:") {
    throw new TypeError(`Locator lacks a ws: or wss: url hint: "${url}"`);
  }
  return url!;
}

/**
 * Open an authenticated connection to `peer`.
 * @throws {TypeError} for a locator of another transport, without a url
 *   hint, or whose designator is not a base32 Ed25519 key
 * @throws {ConnectFailedError} when nobody answers, the handshake times out
 *   or the dial is aborted
 * @throws {PeerAuthError} when the server does not prove the designator's key
 */
export function dialWebSocket(
  peer: OCapNPeer,
  options: WebSocketDialOptions,
): Promise<WebSocketConnection> {
  let url: string;
  let publicKey: Uint8Array;
  try {
    url = peerUrl(peer);
    publicKey = designatorKey(peer.designator);
  } catch (error) {
    return Promise.reject(error);
  }
  const { crypto, signal } = options;
  if (signal?.aborted) {
    return Promise.reject(new ConnectFailedError("Dial was aborted"));
  }
  const schedule = scheduler(options.clock);
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    let challenge: Uint8Array | undefined;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      try {
        ws.close(1000, "handshake failed");
      } catch {
        // Already closing.
      }
    };
    const cancelTimeout = schedule(timeoutMs, () =>
      fail(
        new ConnectFailedError(
          `Peer at "${url}" did not authenticate within ${timeoutMs} ms`,
        ),
      ));
    const onAbort = () => fail(new ConnectFailedError("Dial was aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      cancelTimeout();
      signal?.removeEventListener("abort", onAbort);
      ws.onopen =
        ws.onmessage =
        ws.onerror =
        ws.onclose =
          null;
    };

    ws.onopen = () => {
      challenge = makeChallenge(crypto);
      ws.send(challenge);
    };
    ws.onmessage = (event) => {
      if (failure || !challenge) return;
      try {
        verifyAnswer(event.data, { crypto, challenge, publicKey });
      } catch (error) {
        fail(error as Error);
        return;
      }
      settle();
      // Made inside this event, so the next frame already reaches it.
      resolve(
        new WebSocketConnection(ws, {
          outbound: true,
          schedule,
          lingerMs: options.lingerMs,
          maxLength: options.maxLength,
          maxDepth: options.maxDepth,
        }),
      );
    };
    ws.onerror = () =>
      fail(
        new ConnectFailedError(
          challenge
            ? `Connection to "${url}" broke during the handshake`
            : `Cannot connect to "${url}"`,
        ),
      );
    ws.onclose = (event) => {
      settle();
      reject(
        failure ??
          new ConnectFailedError(
            `Peer at "${url}" closed during the handshake (code ${event.code})`,
          ),
      );
    };
  });
}
