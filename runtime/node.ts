/**
 * An OCapN node: one vat reachable over one or more netlayers (CapTP draft,
 * "Sessions"; Locators.md, "Sturdyrefs").
 *
 * Why it exists: the session engine (protocol/captp/) is pure and the
 * netlayers know nothing of CapTP; this is the glue. Each connection, dialled
 * or accepted, gets one `CapTPSession`: decoded messages go to
 * `handleMessage`, the session's writes go to `send` (one write each), bad
 * input from the framing becomes an op:abort, and the socket's end severs the
 * session. The node keeps the vat-wide session directory, so enlivening a
 * sturdyref reuses a live session to its peer, and it lets one vat listen on
 * several netlayers at once: a sturdyref names its peer's transport, and the
 * node dials it on the netlayer of that transport.
 */
import type { Clock } from "../protocol/clock.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { Registry } from "../protocol/registry.ts";
import {
  formatSturdyRefUri,
  type OCapNPeer,
  type OCapNSturdyRef,
} from "../protocol/locator.ts";
import { CapTPSession } from "../protocol/captp/session.ts";
import {
  type DuplicatePolicy,
  SessionDirectory,
} from "../protocol/captp/directory.ts";
import type { DialectName } from "../protocol/captp/_wire.ts";
import { GiftTable } from "../protocol/captp/gifts.ts";
import { HandoffRoles } from "../protocol/captp/handoff_roles.ts";
import type { FinalizerFactory } from "../protocol/captp/host.ts";
import type { Connection, Netlayer } from "../netlayers/types.ts";
import { defaultCrypto } from "../crypto/mod.ts";
import { captpHost } from "./captp_host.ts";
import { SystemClock } from "./system_clock.ts";
import { Vat } from "./vat.ts";

export interface NodeOptions {
  vat?: Vat;
  crypto?: CryptoProvider;
  /** Defaults to a `SystemClock` the node owns and closes. */
  clock?: Clock;
  /** Which spellings to emit (see protocol/captp/_wire.ts). */
  dialect?: DialectName;
  duplicatePolicy?: DuplicatePolicy;
  maxMessageBytes?: number;
  handshakeTimeoutMs?: number;
  /** Third-party handoff deadlines (see protocol/captp/gifts.ts). */
  handoff?: { depositMs?: number; withdrawMs?: number; handoffMs?: number };
  /**
   * When a presence counts as dropped, for op:gc-exports (default: the
   * garbage collector's word); tests inject one they control.
   */
  finalizer?: FinalizerFactory;
}

export class OCapNNode {
  readonly vat: Vat;
  readonly registry: Registry;
  readonly directory: SessionDirectory;
  #options: NodeOptions;
  #crypto: CryptoProvider;
  #clock: Clock;
  #ownClock: SystemClock | undefined;
  #netlayers = new Map<string, Netlayer>();
  #sessions = new Set<CapTPSession>();

  constructor(options: NodeOptions = {}) {
    this.#options = options;
    this.vat = options.vat ?? new Vat({ name: "node" });
    this.#crypto = options.crypto ?? defaultCrypto;
    if (options.clock === undefined) this.#ownClock = new SystemClock();
    this.#clock = options.clock ?? this.#ownClock!;
    this.registry = new Registry({ clock: this.#clock });
    const randomBytes = (n: number) => this.#crypto.randomBytes(n);
    const gifts = new GiftTable({
      registry: this.registry,
      crypto: this.#crypto,
      findSession: (id) => this.directory.findById(id),
      depositMs: options.handoff?.depositMs,
      withdrawMs: options.handoff?.withdrawMs,
    });
    this.directory = new SessionDirectory({
      randomBytes,
      duplicatePolicy: options.duplicatePolicy,
      dial: (peer) => this.#dial(peer),
      gifts,
    });
    this.directory.handoffs = new HandoffRoles({
      directory: this.directory,
      host: captpHost,
      registry: this.registry,
      crypto: this.#crypto,
      randomBytes,
      handoffMs: options.handoff?.handoffMs,
    });
  }

  /** Serves CapTP on `netlayer` and dials its transport through it. */
  listen(netlayer: Netlayer): OCapNPeer {
    if (this.#netlayers.has(netlayer.transport)) {
      throw new TypeError(
        `A netlayer for "${netlayer.transport}" is already attached`,
      );
    }
    this.#netlayers.set(netlayer.transport, netlayer);
    netlayer.onAccept((connection) => this.#attach(connection, netlayer));
    return netlayer.location;
  }

  /** Our locators, one per netlayer. */
  get locations(): OCapNPeer[] {
    return [...this.#netlayers.values()].map((n) => n.location);
  }

  /**
   * Publishes `ref` under a swiss number (random unless given) and returns
   * its sturdyref on the netlayer of `transport` (default: the first).
   */
  publish(
    ref: object,
    options: { swiss?: string | Uint8Array; transport?: string } = {},
  ): OCapNSturdyRef {
    const netlayer = options.transport === undefined
      ? this.#netlayers.values().next().value
      : this.#netlayers.get(options.transport);
    if (netlayer === undefined) {
      throw new TypeError(
        `No netlayer to publish on: "${options.transport ?? "(none)"}"`,
      );
    }
    const swissNum = this.directory.swiss.publish(ref, options.swiss);
    return { peer: netlayer.location, swissNum };
  }

  /** `publish`, as an `ocapn://` URI. */
  publishUri(
    ref: object,
    options: { swiss?: string | Uint8Array; transport?: string } = {},
  ): string {
    return formatSturdyRefUri(this.publish(ref, options));
  }

  /** A live reference for a sturdyref (URI or record). */
  enliven(ref: OCapNSturdyRef | string): Promise<unknown> {
    return this.directory.enliven(ref);
  }

  /** Live sessions and what they hold, for tests and tools. */
  get sessions(): readonly CapTPSession[] {
    return [...this.#sessions];
  }

  /** Aborts every session, closes the netlayers, the vat and the clock. */
  async close(reason = "node closed"): Promise<void> {
    for (const session of this.#sessions) session.abort(reason);
    await Promise.all(
      [...this.#netlayers.values()].map((netlayer) => netlayer.close()),
    );
    this.#netlayers.clear();
    await Promise.all([...this.#sessions].map((s) => s.whenClosed()));
    this.vat.shutdown(reason);
    this.registry.close();
    this.#ownClock?.close();
  }

  async #dial(peer: OCapNPeer): Promise<CapTPSession> {
    const netlayer = this.#netlayers.get(peer.transport);
    if (netlayer === undefined) {
      throw new TypeError(
        `This node has no netlayer for transport "${peer.transport}"`,
      );
    }
    const connection = await netlayer.connect(peer);
    return this.#attach(connection, netlayer, peer);
  }

  #attach(
    connection: Connection,
    netlayer: Netlayer,
    dialed?: OCapNPeer,
  ): CapTPSession {
    const session: CapTPSession = new CapTPSession({
      send: (bytes) => connection.send(bytes),
      close: (reason) => void connection.close(new Error(reason)),
      clock: this.#clock,
      crypto: this.#crypto,
      host: captpHost,
      registry: this.registry,
      directory: this.directory,
      location: netlayer.location,
      dialed,
      dialect: this.#options.dialect,
      maxMessageBytes: this.#options.maxMessageBytes,
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs,
      finalizer: this.#options.finalizer,
      onClose: () => {
        this.#sessions.delete(session);
        if (!connection.isClosed) void connection.close();
      },
    });
    this.#sessions.add(session);
    connection.attach({
      message: (value) => session.handleMessage(value),
      error: (error) => session.abort(`bad input: ${error.message}`),
      close: (reason) =>
        session.connectionClosed(reason?.message ?? "connection closed"),
    });
    session.start();
    return session;
  }
}
