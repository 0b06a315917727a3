/**
 * An in-process network for deterministic tests: netlayers named by
 * designator, one global FIFO of deliveries, and fault injection.
 *
 * Not an OCapN transport (locators say `memory`); it exists so that CapTP
 * tests can wire vats back to back without sockets, pump messages one at a
 * time and assert the transcript (STYLE.md "Tests": the deterministic
 * harness). Bytes go through the same framing and decoder as a socket, so
 * garbage and oversized input behave as they do on TCP.
 *
 * Delivery is "auto" (a microtask drains the queue after each send) or
 * "manual" (nothing moves until `pump()`); in both, deliveries happen in the
 * order they were queued, across all connections.
 */

import { FramedConnection } from "./base.ts";
import type { Framing } from "./base.ts";
import type { Connection, FramingOptions, OCapNPeer } from "./types.ts";
import { ConnectFailedError, ConnectionClosedError } from "./errors.ts";
import { ListeningNetlayer } from "./_listener.ts";

export const MEMORY_TRANSPORT = "memory";

export interface MemoryNetworkOptions extends FramingOptions {
  /** "auto" (default) drains on a microtask after each send; "manual" waits for pump(). */
  delivery?: "auto" | "manual";
  /** Keep every delivery in `transcript` (default false). */
  record?: boolean;
  /** Framing on the simulated wire (default "bare"). */
  framing?: Framing;
}

/** One delivery, as recorded when it reached its destination. */
export interface TranscriptEntry {
  /** Designator of the sending netlayer. */
  from: string;
  /** Designator of the receiving netlayer. */
  to: string;
  /** "message" (a send), "raw" (deliverRaw) or "close" (the sender closed). */
  kind: "message" | "raw" | "close";
  /** The framed bytes that reached the receiver (empty for "close"). */
  bytes: Uint8Array;
}

const DELIVER = Symbol("deliver");
const END = Symbol("end");

interface Delivery {
  to: MemoryConnection;
  kind: TranscriptEntry["kind"];
  bytes: Uint8Array;
}

export class MemoryNetwork {
  readonly transcript: TranscriptEntry[] = [];
  readonly #options: MemoryNetworkOptions;
  readonly #netlayers = new Map<string, MemoryNetlayer>();
  #queue: Delivery[] = [];
  #drainScheduled = false;

  constructor(options: MemoryNetworkOptions = {}) {
    const delivery = options.delivery ?? "auto";
    if (delivery !== "auto" && delivery !== "manual") {
      throw new TypeError(`Unknown delivery mode "${delivery}"`);
    }
    this.#options = { ...options, delivery };
  }

  /** A netlayer reachable at `<ocapn-peer memory designator {}>`. */
  netlayer(designator: string, options: FramingOptions = {}): MemoryNetlayer {
    if (typeof designator !== "string" || designator === "") {
      throw new TypeError(`Designator must be a non-empty string`);
    }
    if (this.#netlayers.has(designator)) {
      throw new TypeError(`Designator "${designator}" is already in use`);
    }
    const netlayer = new MemoryNetlayer(this, designator, {
      maxLength: options.maxLength ?? this.#options.maxLength,
      maxDepth: options.maxDepth ?? this.#options.maxDepth,
      framing: this.#options.framing,
    });
    this.#netlayers.set(designator, netlayer);
    return netlayer;
  }

  /** Deliveries queued and not yet made. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Make the oldest queued delivery. Returns false when nothing was queued. */
  pump(): boolean {
    const delivery = this.#queue.shift();
    if (!delivery) return false;
    const { to, kind, bytes } = delivery;
    if (this.#options.record) {
      this.transcript.push({
        from: to.peerDesignator,
        to: to.localDesignator,
        kind,
        bytes,
      });
    }
    if (kind === "close") to[END](new ConnectionClosedError("Peer closed"));
    else to[DELIVER](bytes);
    return true;
  }

  /** Pump until the queue is empty, at most `limit` deliveries; returns how many were made. */
  pumpAll(limit = 100_000): number {
    let made = 0;
    while (made < limit && this.pump()) made++;
    return made;
  }

  /** Fault injection: queue `bytes` into `connection`'s input as if its peer had written them. */
  deliverRaw(connection: Connection, bytes: Uint8Array): void {
    this.#enqueue({ to: this.#own(connection), kind: "raw", bytes });
  }

  /** Fault injection: cut both ends at once, dropping what is in flight. */
  sever(connection: Connection): void {
    const end = this.#own(connection);
    const reason = new ConnectionClosedError("Connection severed");
    end[END](reason);
    end.peer?.[END](reason);
  }

  /** @internal */
  enqueue(delivery: Delivery): void {
    this.#enqueue(delivery);
  }

  /** @internal */
  lookup(designator: string): MemoryNetlayer | undefined {
    return this.#netlayers.get(designator);
  }

  /** @internal */
  forget(netlayer: MemoryNetlayer): void {
    if (this.#netlayers.get(netlayer.location.designator) === netlayer) {
      this.#netlayers.delete(netlayer.location.designator);
    }
  }

  #enqueue(delivery: Delivery): void {
    this.#queue.push(delivery);
    if (this.#options.delivery === "auto" && !this.#drainScheduled) {
      this.#drainScheduled = true;
      queueMicrotask(() => {
        this.#drainScheduled = false;
        this.pumpAll();
      });
    }
  }

  #own(connection: Connection): MemoryConnection {
    if (!(connection instanceof MemoryConnection)) {
      throw new TypeError("Not a memory connection");
    }
    return connection;
  }
}

interface MemoryNetlayerOptions extends FramingOptions {
  framing?: Framing;
}

export class MemoryNetlayer extends ListeningNetlayer<MemoryConnection> {
  readonly transport = MEMORY_TRANSPORT;
  readonly location: OCapNPeer;
  readonly #network: MemoryNetwork;
  readonly #options: MemoryNetlayerOptions;

  constructor(
    network: MemoryNetwork,
    designator: string,
    options: MemoryNetlayerOptions,
  ) {
    super();
    this.#network = network;
    this.#options = options;
    this.location = { transport: MEMORY_TRANSPORT, designator, hints: {} };
  }

  connect(peer: OCapNPeer): Promise<Connection> {
    if (peer.transport !== MEMORY_TRANSPORT) {
      return Promise.reject(
        new TypeError(
          `Locator transport "${peer.transport}" is not ${MEMORY_TRANSPORT}`,
        ),
      );
    }
    const target = this.#network.lookup(peer.designator);
    if (this.isClosing || !target || target.isClosing) {
      return Promise.reject(
        new ConnectFailedError(`No memory peer "${peer.designator}"`),
      );
    }
    const client = this.track(this.#open(true, target.location.designator));
    const server = target.#open(false, this.location.designator);
    client.peer = server;
    server.peer = client;
    target.accept(server);
    return Promise.resolve(client);
  }

  protected shutdown(): Promise<void> {
    this.#network.forget(this);
    return this.closeConnections();
  }

  #open(outbound: boolean, peerDesignator: string): MemoryConnection {
    return new MemoryConnection(this.#network, {
      transport: MEMORY_TRANSPORT,
      outbound,
      framing: this.#options.framing,
      maxLength: this.#options.maxLength,
      maxDepth: this.#options.maxDepth,
      localDesignator: this.location.designator,
      peerDesignator,
    });
  }
}

class MemoryConnection extends FramedConnection {
  readonly localDesignator: string;
  readonly peerDesignator: string;
  peer: MemoryConnection | undefined;
  readonly #network: MemoryNetwork;

  constructor(
    network: MemoryNetwork,
    options: ConstructorParameters<typeof FramedConnection>[0] & {
      localDesignator: string;
      peerDesignator: string;
    },
  ) {
    super(options);
    this.#network = network;
    this.localDesignator = options.localDesignator;
    this.peerDesignator = options.peerDesignator;
  }

  [DELIVER](bytes: Uint8Array): void {
    this.receive(bytes);
  }

  [END](reason: Error): void {
    this.transportEnded(reason);
  }

  protected transmit(frame: Uint8Array): void {
    if (this.peer) {
      this.#network.enqueue({ to: this.peer, kind: "message", bytes: frame });
    }
  }

  protected shutdown(): Promise<void> {
    // Queued behind everything already sent, so the peer reads it all first.
    if (this.peer && !this.peer.isClosed) {
      this.#network.enqueue({
        to: this.peer,
        kind: "close",
        bytes: new Uint8Array(0),
      });
    }
    return Promise.resolve();
  }
}
