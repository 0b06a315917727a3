/**
 * The `noise-udp` netlayer: CapTP message objects over encrypted UDP
 * (README "UDP netlayer"). OCapN's drafts define no UDP transport; this one
 * carries each CapTP message as one message object, fragmented into sealed
 * datagrams (netlayers/udp/wire.ts), after a Noise handshake with
 * WireGuard-style cookies (netlayers/udp/handshake.ts).
 *
 * Locator: `<ocapn-peer noise-udp "<designator>" {"host" h "port" p}>`, the
 * designator being the peer's Ed25519 key in lowercase unpadded base32, as
 * for noise-tcp. One socket serves every peer: the pure endpoint
 * (netlayers/udp/endpoint.ts) routes datagrams by session hashcode, and this
 * file only moves datagrams between it and the socket and turns each
 * endpoint session into a netlayer Connection.
 */
import type { Registry } from "../protocol/registry.ts";
import { encodeBase32 } from "../protocol/base32.ts";
import {
  type NoiseListenerOptions,
  NoiseResources,
} from "./_listener_noise.ts";
import { FramedConnection } from "./base.ts";
import type { Connection, FramingOptions, OCapNPeer } from "./types.ts";
import { expectTransport } from "./types.ts";
import { checkedPort, hostPortHints, hostPortOf } from "./_host_port.ts";
import { ConnectFailedError } from "./errors.ts";
import { ListeningNetlayer } from "./_listener.ts";
import { designatorKey } from "./noise_tcp.ts";
import {
  UdpEndpoint,
  type UdpEndpointTuning,
  type UdpSession,
} from "./udp/endpoint.ts";
import { type DatagramSocket, openDatagramSocket } from "./udp/socket.ts";

export const NOISE_UDP_TRANSPORT = "noise-udp";

export interface NoiseUdpOptions extends NoiseListenerOptions {
  /** Handshake, cache and data-plane settings (netlayers/udp/endpoint.ts). */
  tuning?: Partial<UdpEndpointTuning>;
}

export class NoiseUdpNetlayer extends ListeningNetlayer<UdpConnection> {
  readonly transport = NOISE_UDP_TRANSPORT;
  readonly location: OCapNPeer;
  readonly registry: Registry;
  readonly endpoint: UdpEndpoint;
  readonly #socket: DatagramSocket;
  readonly #options: NoiseUdpOptions;
  readonly #resources: NoiseResources;

  private constructor(options: NoiseUdpOptions) {
    super();
    this.#options = options;
    this.#resources = new NoiseResources(options);
    const { crypto, identity, clock, registry } = this.#resources;
    this.registry = registry;
    // The endpoint first: bad tuning or identity throws before a socket
    // is bound that nothing would close.
    const endpoint = new UdpEndpoint({
      clock,
      crypto,
      registry,
      identity,
      sendTo: (bytes, to) => this.#socket.send(bytes, to),
      onAccept: (session) => this.accept(new UdpConnection(session, options)),
      options: options.tuning,
    });
    this.endpoint = endpoint;
    this.#socket = openDatagramSocket({
      hostname: options.host ?? "127.0.0.1",
      port: checkedPort(options.port),
      onDatagram: (bytes, from) => endpoint.receive(bytes, from),
      onDrain: () => endpoint.flush(),
    });
    this.location = {
      transport: NOISE_UDP_TRANSPORT,
      designator: encodeBase32(identity.ed25519.publicKey),
      hints: hostPortHints(this.#socket.address),
    };
  }

  /** Bind the socket. @throws {Deno.errors.AddrInUse} and the like */
  static listen(options: NoiseUdpOptions = {}): NoiseUdpNetlayer {
    return new NoiseUdpNetlayer(options);
  }

  /**
   * Dial `peer` (Noise IK: the designator is the key the peer must prove),
   * or reuse the cached secret of a peer seen within the idle time.
   * @throws {TypeError} for another transport or a malformed locator
   * @throws {ConnectFailedError} when the handshake gets no answer in time or fails
   */
  async connect(peer: OCapNPeer): Promise<Connection> {
    expectTransport(peer, NOISE_UDP_TRANSPORT);
    const key = designatorKey(peer.designator);
    const { host, port } = hostPortOf(peer.hints);
    const address = { hostname: host, port };
    this.checkOpen();
    let session: UdpSession;
    try {
      session = await this.endpoint.connect({ key, address });
    } catch (error) {
      throw new ConnectFailedError(
        `Noise handshake with "${host}:${port}" failed: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    this.checkOpen(() => session.close());
    return this.track(new UdpConnection(session, this.#options));
  }

  protected async shutdown(): Promise<void> {
    await this.closeConnections();
    this.endpoint.close();
    await this.#socket.close();
    this.#resources.close();
  }
}

/** One CapTP connection: each message object is exactly one Syrup value. */
export class UdpConnection extends FramedConnection {
  readonly #session: UdpSession;

  constructor(session: UdpSession, options: FramingOptions) {
    super({
      transport: NOISE_UDP_TRANSPORT,
      outbound: session.outbound,
      framing: "message",
      maxLength: options.maxLength,
      maxDepth: options.maxDepth,
    });
    this.#session = session;
    session.attach({
      message: (bytes) => this.receiveMessage(bytes),
      close: (reason) => this.transportEnded(reason),
    });
  }

  /** The peer's designator in `noise-udp` locators. */
  get remoteDesignator(): string {
    return encodeBase32(this.#session.remoteKey);
  }

  protected transmit(message: Uint8Array): void {
    this.#session.send(message);
  }

  protected shutdown(): Promise<void> {
    this.#session.close();
    return Promise.resolve();
  }
}
