/**
 * The sessions of one vat, by peer (CapTP draft, "op:start-session",
 * crossed hellos; Locators.md "Sturdyrefs").
 *
 * Why it exists: three rules need to see more than one session. A second
 * live session with the same peer is refused; two connections dialled at
 * once by both sides (crossed hellos) are settled by the side-ID rule; and
 * enlivening a sturdyref reuses a live session to that peer instead of
 * dialling again. The swiss-number table is vat-wide for the same reason.
 */

import {
  type OCapNPeer,
  type OCapNSturdyRef,
  parseSturdyRefUri,
} from "../locator.ts";
import type { CapTPSession } from "./session.ts";
import { type GiftExchange, SwissTable } from "./bootstrap.ts";
import { compareBytes } from "./keys.ts";
import type { SyrupRecord, SyrupValue } from "../syrup/value.ts";

/**
 * Third-party handoffs as the engine sees them (handoff_roles.ts): a
 * reference of another session becomes a signed give, and a signed give
 * that arrives becomes a promise for a direct reference.
 */
export interface HandoffSeam {
  encodeForeign(session: CapTPSession, value: object): SyrupValue | undefined;
  decodeForeign(session: CapTPSession, record: SyrupRecord): unknown;
}

/** What the directory tells the exporter's gift table. */
interface GiftSessions extends GiftExchange {
  sessionClosed?(session: object): void;
}

/**
 * What to do when a peer starts a session while one with it is live:
 * "abort-new" (the draft) refuses the newcomer; "replace-old" aborts the old
 * one, which suits a peer that reconnects before we saw its close.
 */
export type DuplicatePolicy = "abort-new" | "replace-old";

export interface DirectoryOptions {
  randomBytes(n: number): Uint8Array;
  duplicatePolicy?: DuplicatePolicy;
  /** Opens a connection and a session to `peer` (the netlayer glue). */
  dial?(peer: OCapNPeer): CapTPSession | Promise<CapTPSession>;
  gifts?: GiftExchange;
}

const keyOf = (peer: OCapNPeer) => `${peer.transport}\u0000${peer.designator}`;

export class SessionDirectory {
  readonly swiss: SwissTable;
  readonly gifts: GiftSessions | undefined;
  /** Installed by the vat (runtime/node.ts); none means no handoffs. */
  handoffs: HandoffSeam | undefined;
  #policy: DuplicatePolicy;
  #dial: DirectoryOptions["dial"];
  /** Open sessions, one per peer. */
  #live = new Map<string, CapTPSession>();
  /** Sessions we dialled whose handshake is in flight. */
  #dialing = new Map<string, CapTPSession>();

  constructor(options: DirectoryOptions) {
    this.swiss = new SwissTable({ randomBytes: options.randomBytes });
    this.gifts = options.gifts as GiftSessions | undefined;
    this.#policy = options.duplicatePolicy ?? "abort-new";
    this.#dial = options.dial;
  }

  /** Called by a session we dialled, when it sends its op:start-session. */
  dialing(session: CapTPSession, peer: OCapNPeer): void {
    this.#dialing.set(keyOf(peer), session);
  }

  /**
   * Decides whether `session`, whose peer's op:start-session just checked
   * out, may open. Returns the abort reason when it may not.
   */
  admit(session: CapTPSession): string | undefined {
    const key = keyOf(session.peer!);
    const ours = this.#dialing.get(key);
    if (ours !== undefined && ours !== session && !session.dialed) {
      // Crossed hellos: the connection opened by the lower side ID goes.
      if (compareBytes(ours.localSideId, session.peerSideId!) < 0) {
        this.#dialing.delete(key);
        ours.abort("crossed hellos: the peer's connection wins");
      } else {
        return "crossed hellos: our connection wins";
      }
    }
    const live = this.#live.get(key);
    if (live !== undefined && live !== session) {
      if (this.#policy === "abort-new") {
        return "a session with this peer is already live";
      }
      live.abort("replaced by a new session with the same peer");
    }
    return undefined;
  }

  /** Called when `session` opens. */
  opened(session: CapTPSession): void {
    const key = keyOf(session.peer!);
    if (this.#dialing.get(key) === session) this.#dialing.delete(key);
    this.#live.set(key, session);
  }

  /** Called once when `session` closes, whatever its state. */
  removed(session: CapTPSession): void {
    for (const map of [this.#live, this.#dialing]) {
      for (const [key, s] of map) if (s === session) map.delete(key);
    }
    this.gifts?.sessionClosed?.(session);
  }

  /** The open sessions. */
  sessions(): IterableIterator<CapTPSession> {
    return this.#live.values();
  }

  /** The open session whose session ID is `id`, if any. */
  findById(id: Uint8Array): CapTPSession | undefined {
    for (const s of this.#live.values()) {
      if (s.id !== undefined && compareBytes(s.id, id) === 0) return s;
    }
    return undefined;
  }

  /**
   * An open session with `peer`: the live one, else the one being dialled,
   * else a new dial. Crossed hellos may replace the dialled session with
   * the peer's; then the live one is used.
   */
  async connect(peer: OCapNPeer): Promise<CapTPSession> {
    const key = keyOf(peer);
    let session = this.#live.get(key) ?? this.#dialing.get(key);
    if (session === undefined) {
      if (this.#dial === undefined) {
        throw new TypeError("This vat cannot dial: no dial function given");
      }
      session = await this.#dial(peer);
    }
    try {
      await session.whenOpen();
      return session;
    } catch (error) {
      const live = this.#live.get(key);
      if (live === undefined) throw error;
      return live;
    }
  }

  /** The open session with `peer`, if any. */
  find(peer: OCapNPeer): CapTPSession | undefined {
    return this.#live.get(keyOf(peer));
  }

  get size(): number {
    return this.#live.size + this.#dialing.size;
  }

  /**
   * A live reference for a sturdyref (URI or record): reuses an open or
   * dialling session to its peer, else dials; then fetches the swiss number
   * from the peer's bootstrap object.
   */
  async enliven(ref: OCapNSturdyRef | string): Promise<unknown> {
    const sturdy = typeof ref === "string" ? parseSturdyRefUri(ref) : ref;
    const session = await this.connect(sturdy.peer);
    return session.fetch(sturdy.swissNum);
  }
}
