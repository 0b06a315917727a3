/**
 * The `noise-tcp` netlayer: CapTP over TCP inside Noise, authenticated by
 * the peers' Ed25519 keys (CapTP draft, "Netlayers"; the Noise Protocol
 * Framework rev. 34; WireGuard's cookies for denial of service).
 *
 * Locator: `<ocapn-peer noise-tcp "<designator>" {"host" h "port" p}>`,
 * where the designator is the peer's Ed25519 public key in lowercase
 * unpadded base32 (protocol/base32.ts). The X25519 form of that key is the
 * peer's Noise static key, so the key in the locator is the identity the
 * handshake proves; no signature binds them.
 *
 * Patterns: a locator always names the key (locators refuse an empty
 * designator), so `connect` always uses Noise_IK_25519_ChaChaPoly_BLAKE2s,
 * one round trip. `connectWithoutKey({host, port})` dials with
 * Noise_XX_25519_ChaChaPoly_BLAKE2s and learns the key (`remoteDesignator`);
 * every listener answers both.
 *
 * Wire, on the TCP byte stream: frames of
 *   length (2 bytes, big-endian, of the body) | type (1 byte) | body
 * with type 1 initiation (kind byte, Noise message 1, mac1, mac2), 2 Noise
 * message 2, 3 Noise message 3 (XX), 4 cookie reply, 5 transport record
 * (netlayers/noise/transport.ts: 9-byte header, ciphertext, tag). Noise
 * caps a message at 65535 bytes, so the body fits two bytes. After the
 * handshake the IK dialer sends one empty record (key confirmation) and
 * then each CapTP message, Syrup-encoded and unframed, starts a new record;
 * a message longer than one record's 65510 bytes of plaintext continues in
 * the records right after it. The receiver reads record plaintexts as one
 * stream, so the message maximum (`maxLength`, default 16 MiB) still applies.
 */
import { dialTcp, hostPortOf, listenTcp, TcpAcceptLoop } from "./_host_port.ts";
import type { Registry } from "../protocol/registry.ts";
import { decodeBase32, encodeBase32 } from "../protocol/base32.ts";
import { ed25519PublicToX25519 } from "../protocol/ed25519_to_x25519.ts";
import {
  type NoiseListenerOptions,
  NoiseResources,
} from "./_listener_noise.ts";
import type { Connection, OCapNPeer } from "./types.ts";
import { expectTransport } from "./types.ts";
import { ConnectFailedError } from "./errors.ts";
import { ListeningNetlayer } from "./_listener.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./noise/handshake_machine.ts";
import {
  answerHandshake,
  closeQuietly,
  CookieGate,
  dialHandshake,
  type HandshakeContext,
  type Handshaken,
} from "./_noise_tcp_handshake.ts";
import { NoiseConnection } from "./_noise_tcp_connection.ts";

export { NoiseConnection };
export { HANDSHAKE_KIND } from "./_noise_tcp_handshake.ts";

export const NOISE_TCP_TRANSPORT = "noise-tcp";
/** Bound into every handshake hash, so a handshake for another use never verifies here. */
export const NOISE_TCP_PROLOGUE = new TextEncoder().encode(
  "OCapN noise-tcp v1",
);

export interface NoiseTcpOptions extends NoiseListenerOptions {
  /** Limit on a whole handshake, and on the wait for a first frame (default 5000 ms). */
  handshakeTimeoutMs?: number;
  /** Initiations per second beyond which the listener demands cookies (default 1000). */
  loadThreshold?: number;
  /** Rekey a direction after this many records (default 2^20). */
  rekeyAfterMessages?: number;
  /** Rekey a direction once its key is this old (default 120 s). */
  rekeyAfterMs?: number;
  /** How long close waits for the peer to close its side (default 2000 ms). */
  lingerMs?: number;
  /** Told of every inbound handshake that failed (bad bytes, bad macs, timeouts). */
  onHandshakeFailure?: (error: Error, address: string) => void;
}

export class NoiseTcpNetlayer extends ListeningNetlayer<NoiseConnection> {
  readonly transport = NOISE_TCP_TRANSPORT;
  readonly location: OCapNPeer;
  readonly registry: Registry;
  readonly #options: NoiseTcpOptions;
  readonly #ctx: HandshakeContext;
  readonly #gate: CookieGate;
  readonly #resources: NoiseResources;
  readonly #acceptLoop: TcpAcceptLoop;

  private constructor(listener: Deno.TcpListener, options: NoiseTcpOptions) {
    super();
    this.#options = options;
    this.#resources = new NoiseResources(options);
    const { crypto, identity, clock, registry } = this.#resources;
    this.registry = registry;
    this.#ctx = {
      crypto,
      clock,
      registry,
      identity,
      prologue: NOISE_TCP_PROLOGUE,
      timeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      transport: {
        rekeyAfterMessages: options.rekeyAfterMessages,
        rekeyAfterMs: options.rekeyAfterMs,
        clock,
      },
      handshaking: new Set(),
    };
    this.#gate = new CookieGate(this.#ctx, options);
    this.#acceptLoop = new TcpAcceptLoop(
      listener,
      (conn) => this.inFlight(this.#answer(conn)),
    );
    this.location = {
      transport: NOISE_TCP_TRANSPORT,
      designator: encodeBase32(identity.ed25519.publicKey),
      hints: this.#acceptLoop.hints,
    };
  }

  /** Start listening. @throws {Deno.errors.AddrInUse} and the like from Deno.listen */
  static listen(options: NoiseTcpOptions = {}): NoiseTcpNetlayer {
    return new NoiseTcpNetlayer(listenTcp(options), options);
  }

  /** Demand cookies from every initiation, whatever the load (tests, operators). */
  get forceUnderLoad(): boolean {
    return this.#gate.forceUnderLoad;
  }
  set forceUnderLoad(value: boolean) {
    this.#gate.forceUnderLoad = value;
  }

  /**
   * Dial `peer` with IK, proving it holds the key its designator names.
   * @throws {TypeError} for another transport, a designator that is not an Ed25519 key, or missing hints
   * @throws {ConnectFailedError} when nobody answers or the handshake fails (its `cause` is the NoiseError)
   */
  async connect(peer: OCapNPeer): Promise<Connection> {
    expectTransport(peer, NOISE_TCP_TRANSPORT);
    const remoteIdentity = designatorKey(peer.designator);
    return await this.#dial(hostPortOf(peer.hints), remoteIdentity);
  }

  /** Dial with XX, learning the responder's key from the handshake. */
  async connectWithoutKey(
    address: { host: string; port: number },
  ): Promise<NoiseConnection> {
    return await this.#dial(
      hostPortOf({ ...address, port: String(address.port) }),
    );
  }

  async #dial(
    address: { host: string; port: number },
    remoteIdentity?: Uint8Array,
  ): Promise<NoiseConnection> {
    const where = `${address.host}:${address.port}`;
    this.checkOpen();
    const connect = async () => {
      const conn = await dialTcp(address);
      this.checkOpen(() => conn.close());
      return conn;
    };
    let done: Handshaken;
    try {
      done = await dialHandshake(this.#ctx, { connect, remoteIdentity });
    } catch (error) {
      if (error instanceof ConnectFailedError) throw error;
      throw new ConnectFailedError(
        `Noise handshake with "${where}" failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.checkOpen(() => release(done));
    return this.track(this.#wrap(done, true));
  }

  protected async shutdown(): Promise<void> {
    await this.#acceptLoop.close();
    for (const socket of this.#ctx.handshaking) closeQuietly(socket);
    await this.closeConnections();
    this.#resources.close();
  }

  async #answer(conn: Deno.TcpConn): Promise<void> {
    const address = conn.remoteAddr.hostname;
    let done: Handshaken | undefined;
    try {
      done = await answerHandshake(this.#ctx, conn, {
        gate: this.#gate,
        address,
      });
    } catch (error) {
      closeQuietly(conn);
      try {
        this.#options.onHandshakeFailure?.(error as Error, address);
      } catch {
        // An observer's failure is not the handshake's.
      }
      return;
    }
    if (done === undefined) return;
    if (this.isClosing) return release(done);
    this.accept(this.#wrap(done, false));
  }

  #wrap(done: Handshaken, outbound: boolean): NoiseConnection {
    return new NoiseConnection(done, {
      transport: NOISE_TCP_TRANSPORT,
      outbound,
      maxLength: this.#options.maxLength,
      maxDepth: this.#options.maxDepth,
      lingerMs: this.#options.lingerMs,
    });
  }
}

/**
 * The Ed25519 key a designator names.
 * @throws {TypeError} when it is not the base32 of a valid Ed25519 public key
 */
export function designatorKey(designator: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = decodeBase32(designator);
    if (key.length !== 32) throw new RangeError("Not 32 bytes");
    ed25519PublicToX25519(key);
  } catch (error) {
    throw new TypeError(
      `Designator "${designator}" is not an Ed25519 public key in base32`,
      { cause: error },
    );
  }
  return key;
}

/** Frees a handshake's result that no connection will own. */
function release(done: Handshaken): void {
  done.established.transport.close();
  closeQuietly(done.socket);
}
