/**
 * The `websocket` netlayer: CapTP over WebSocket, one Syrup message per
 * binary frame, the server proving its designator key before any CapTP
 * byte. This is the convention Goblins and Endo share and interoperate on
 * (OCapN issue 150 "Specify a netlayer"; Endo PR 3195 and its Guile interop
 * CI against Goblins). What was read, and where:
 *
 * - Endo `packages/ocapn/src/netlayers/websocket.js` (endojs/endo at
 *   1fa6c227): lines 22-39 the exchange (`<init:peer-auth <32 bytes>>`
 *   answered by `<desc:sig-envelope <init:peer-auth ...> sig>`), 459-463
 *   the server signs the challenge frame verbatim, 379-383 the client
 *   sends it on open, 386-406 it checks the signature against the
 *   designator, 306-316 the locator `<ocapn-peer websocket "<base32 key>"
 *   {"url" "ws://host:port"}>`. No client authentication.
 * - Endo `packages/ocapn/src/codecs/components.js` lines 69-104: the
 *   signature is `[sig-val [eddsa [r <32>] [s <32>]]]`, not 64 raw bytes.
 * - Goblins `goblins/ocapn/netlayer/websocket.scm` (GitHub mirror
 *   daniel-fahey/goblins at 171e0196; Codeberg is not reachable from here):
 *   `^listener` and `open-websocket` sign and check 64 raw random bytes
 *   with a bare sig-val answer (v0.17); `default-url` builds
 *   `ws(s)://host:port`; the designator is the base32 public key, the one
 *   hint is "url". Goblins v0.18 moved to the typed record (Endo's
 *   header says it matches Goblins, websocket.js lines 23 and 38, and
 *   `.github/workflows/ocapn-guile-interop.yml` lines 50-57 runs Endo
 *   against Goblins commit d42d3a4 over this netlayer). Where the sources
 *   disagree we follow v0.18 and Endo, which interoperate, and do not
 *   speak the v0.17 raw form (a signing oracle).
 *
 * The server side uses Deno.serve; the client side (websocket_client.ts)
 * uses only the standard WebSocket global.
 */

import type { Clock } from "../protocol/clock.ts";
import type { CryptoProvider, KeyPair } from "../protocol/crypto.ts";
import type { Connection, FramingOptions } from "./types.ts";
import { expectTransport } from "./types.ts";
import type { OCapNPeer } from "./types.ts";
import { ListeningNetlayer } from "./_listener.ts";
import { checkedPort } from "./_host_port.ts";
import {
  answerChallenge,
  checkIdentity,
  designatorFor,
  MAX_HANDSHAKE_FRAME,
  WEBSOCKET_TRANSPORT,
} from "./_websocket_auth.ts";
import { type Schedule, WebSocketConnection } from "./_websocket_connection.ts";
import { dialWebSocket, scheduler } from "./websocket_client.ts";

export { PeerAuthError, WEBSOCKET_TRANSPORT } from "./_websocket_auth.ts";
export {
  dialWebSocket,
  type WebSocketDialOptions,
} from "./websocket_client.ts";
export type { WebSocketConnection };

export interface WebSocketNetlayerOptions extends FramingOptions {
  /** Signing, verifying, randomness and key generation. */
  crypto: CryptoProvider;
  /** The Ed25519 designator key; a fresh one is generated when absent. */
  identity?: KeyPair;
  /** Address to listen on (default "127.0.0.1"). */
  host?: string;
  /** Port; 0 picks a free one, which the location reports (default 0). */
  port?: number;
  /** The url hint to advertise (behind a proxy, or for 0.0.0.0); default `ws://host:port`. */
  url?: string;
  /** Time source for the deadlines (default: real timers). */
  clock?: Clock;
  /** How long each side of the proof may take (default 10000 ms). */
  handshakeTimeoutMs?: number;
  /** How long close waits for the peer's close frame (default 2000 ms). */
  lingerMs?: number;
}

export class WebSocketNetlayer extends ListeningNetlayer<WebSocketConnection> {
  readonly transport = WEBSOCKET_TRANSPORT;
  readonly location: OCapNPeer;
  readonly #options: WebSocketNetlayerOptions;
  readonly #identity: KeyPair;
  readonly #ownsIdentity: boolean;
  readonly #schedule: Schedule;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** Inbound sockets whose challenge has not come yet. */
  readonly #handshakes = new Set<WebSocket>();
  readonly #dials = new AbortController();

  private constructor(options: WebSocketNetlayerOptions) {
    super();
    const { identity, generated } = checkIdentity(
      options.crypto,
      options.identity,
    );
    this.#options = options;
    this.#identity = identity;
    this.#ownsIdentity = generated;
    this.#schedule = scheduler(options.clock);
    this.#server = Deno.serve({
      hostname: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      onListen() {},
    }, (request) => this.#serve(request));
    const { hostname, port } = this.#server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    this.location = {
      transport: WEBSOCKET_TRANSPORT,
      designator: designatorFor(identity.publicKey),
      hints: { url: options.url ?? `ws://${host}:${port}` },
    };
  }

  /**
   * Start listening.
   * @throws {TypeError} when the identity's keys do not match
   * @throws {RangeError} for a port outside 0-65535
   * @throws {Deno.errors.AddrInUse} and the like from Deno.serve
   */
  static listen(options: WebSocketNetlayerOptions): WebSocketNetlayer {
    checkedPort(options.port);
    return new WebSocketNetlayer(options);
  }

  async connect(peer: OCapNPeer): Promise<Connection> {
    expectTransport(peer, WEBSOCKET_TRANSPORT);
    this.checkOpen();
    const options = this.#options;
    const connection = await this.inFlight(dialWebSocket(peer, {
      crypto: options.crypto,
      clock: options.clock,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      lingerMs: options.lingerMs,
      maxLength: options.maxLength,
      maxDepth: options.maxDepth,
      signal: this.#dials.signal,
    }));
    if (this.isClosing) await connection.close();
    this.checkOpen();
    return this.track(connection);
  }

  protected async shutdown(): Promise<void> {
    this.#dials.abort();
    for (const ws of this.#handshakes) closeQuietly(ws, "shutting down");
    await this.closeConnections();
    // Also ends the sockets still in their handshake (close code 1001).
    await this.#server.shutdown();
    await this.#server.finished;
    if (this.#ownsIdentity) this.#identity.secretKey.fill(0);
  }

  #serve(request: Request): Response {
    if (this.isClosing) {
      return new Response("Shutting down", { status: 503 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("OCapN websocket netlayer: upgrade required", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    this.#awaitChallenge(socket);
    return response;
  }

  /** The server's half of the proof; the socket becomes a connection once it answers. */
  #awaitChallenge(ws: WebSocket): void {
    ws.binaryType = "arraybuffer";
    this.#handshakes.add(ws);
    const refuse = (why: string) => {
      done();
      closeQuietly(ws, why);
    };
    const cancelTimeout = this.#schedule(
      this.#options.handshakeTimeoutMs ?? 10_000,
      () => refuse("no challenge"),
    );
    const done = () => {
      cancelTimeout();
      this.#handshakes.delete(ws);
      ws.onmessage = ws.onclose = null;
    };
    ws.onclose = () => done();
    ws.onmessage = (event) => {
      const data = event.data;
      if (!(data instanceof ArrayBuffer)) return refuse("text frame");
      if (data.byteLength > MAX_HANDSHAKE_FRAME) return refuse("bad challenge");
      let answer: Uint8Array;
      try {
        answer = answerChallenge(new Uint8Array(data), {
          crypto: this.#options.crypto,
          identity: this.#identity,
        });
      } catch {
        return refuse("bad challenge");
      }
      if (this.isClosing) return refuse("shutting down");
      done();
      ws.send(answer);
      // Made inside this event, so the next frame already reaches it.
      const connection = new WebSocketConnection(ws, {
        outbound: false,
        schedule: this.#schedule,
        lingerMs: this.#options.lingerMs,
        maxLength: this.#options.maxLength,
        maxDepth: this.#options.maxDepth,
      });
      this.accept(connection);
    };
  }
}

function closeQuietly(ws: WebSocket, why: string): void {
  try {
    ws.close(1000, why);
  } catch {
    // Not open yet, or already closing.
  }
}
