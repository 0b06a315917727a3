/**
 * The UDP endpoint's session table (README "UDP netlayer"): every Slot, be
 * it our dial, a responder half-open or an established per-peer secret,
 * enters through `open` and leaves through `end`, here and nowhere else.
 * It is apart from endpoint.ts, which decides what each datagram does, so
 * that the bookkeeping that keeps the registry clean reads in one place:
 *
 * - a slot is live exactly while its "udp-session" hashcode is, and that
 *   entry's deadline is the handshake deadline until the peer confirms,
 *   then `idleTimeout` after the last authentic datagram (pushed forward
 *   at most once a second);
 * - a slot ends exactly once, through its connection machine when it has
 *   one (connection_machine.ts), freeing its hashcode, link and handshake;
 * - the by-key index names only live confirmed slots, so a cached secret
 *   is never one that has ended.
 *
 * Two slots may hold secrets for one peer (both dialled at once); each
 * carries its own connections until it idles out, and the newer one is the
 * one `cached` offers.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { Registry } from "../../protocol/registry.ts";
import { addressKey, type UdpAddress } from "./address.ts";
import type { EndState } from "./connection_machine.ts";
import {
  EndpointClosedError,
  HandshakeTimeoutError,
  SessionClosedError,
} from "./errors.ts";
import type { DataKeys } from "./handshake.ts";
import type { ResponderHandshake } from "./handshake_roles.ts";
import type { UdpEndpointTuning } from "./options.ts";
import { PeerLink, type UdpSession } from "./session_cache.ts";
import {
  type Counters,
  countingCrypto,
  hex,
  newCounters,
  Slot,
  startMachine,
  type UdpEndpointStats,
} from "./endpoint_slot.ts";

export const SESSION_KIND = "udp-session";

export interface SlotTableOptions {
  clock: Clock;
  crypto: CryptoProvider;
  registry: Registry;
  tuning: UdpEndpointTuning;
  sendTo(bytes: Uint8Array, to: UdpAddress): void;
  onAccept(session: UdpSession): void;
}

export class SlotTable {
  readonly counters: Counters = newCounters();
  /** The endpoint's crypto with every X25519 agreement counted. */
  readonly crypto: CryptoProvider;
  #o: UdpEndpointTuning;
  #clock: Clock;
  #registry: Registry;
  #sendTo: (bytes: Uint8Array, to: UdpAddress) => void;
  #onAccept: (session: UdpSession) => void;
  #slots = new Set<Slot>();
  #byKey = new Map<string, Slot>();
  #dirty = new Set<PeerLink>();
  /** Responder half-opens by the address their initiation came from. */
  #answering = new Map<string, number>();

  constructor(options: SlotTableOptions) {
    this.#o = options.tuning;
    this.#clock = options.clock;
    this.#registry = options.registry;
    this.#sendTo = options.sendTo;
    this.#onAccept = options.onAccept;
    this.crypto = countingCrypto(
      options.crypto,
      () => this.counters.dhOperations++,
    );
  }

  /** A new slot whose hashcode expires in `lifetime` ms unless confirmed. */
  open(address: UdpAddress, lifetime: number): Slot {
    const slot = new Slot(address);
    slot.code = this.#registry.mint(SESSION_KIND, slot, {
      deadline: this.#clock.now() + lifetime,
      dispose: (_slot, why) => {
        if (why === "expired") {
          slot.endError = slot.confirmed
            ? new SessionClosedError("idle")
            : new HandshakeTimeoutError("Handshake deadline passed");
        }
        this.stop(slot);
      },
    });
    this.#slots.add(slot);
    return slot;
  }

  /**
   * The slot becomes a responder half-open holding `answer`; `proven` when
   * its initiation carried a cookie, so its address counts against
   * `maxHalfOpenPerAddress` (a spoofed address, unproven, must not).
   */
  answer(slot: Slot, answer: ResponderHandshake, proven: boolean): void {
    slot.answer = answer;
    if (!proven) return;
    const where = addressKey(slot.address);
    slot.provenFrom = where;
    this.#answering.set(where, (this.#answering.get(where) ?? 0) + 1);
  }

  /** The half-open is over: it no longer counts against its address. */
  answered(slot: Slot): void {
    slot.answer = undefined;
    const where = slot.provenFrom;
    if (where === undefined) return;
    slot.provenFrom = undefined;
    const n = this.#answering.get(where)! - 1;
    if (n === 0) this.#answering.delete(where);
    else this.#answering.set(where, n);
  }

  /** Live cookie-proven half-opens from `where` (an addressKey). */
  halfOpenFrom(where: string): number {
    return this.#answering.get(where) ?? 0;
  }

  /** The live slot a session hashcode read from the wire names. */
  lookup(code: number): Slot | undefined {
    const slot = this.#registry.lookup<Slot>(code, SESSION_KIND);
    return slot && this.#slots.has(slot) ? slot : undefined;
  }

  /** A confirmed secret for `peer` that will not idle out soon. */
  cached(peer: { key?: Uint8Array; address: UdpAddress }): Slot | undefined {
    const margin = Math.min(30_000, this.#o.idleTimeout / 8);
    const fresh = (s: Slot) =>
      this.#clock.now() - s.link!.lastHeardAt < this.#o.idleTimeout - margin;
    if (peer.key) {
      const slot = this.#byKey.get(hex(peer.key));
      return slot && fresh(slot) ? slot : undefined;
    }
    const where = addressKey(peer.address);
    for (const slot of this.#byKey.values()) {
      if (fresh(slot) && addressKey(slot.link!.address) === where) return slot;
    }
  }

  /** Keys agreed: the slot gets its per-peer secret and channel. */
  link(
    slot: Slot,
    keys: DataKeys,
    peer: { key: Uint8Array; code: number },
  ): void {
    slot.link = new PeerLink({
      clock: this.#clock,
      crypto: this.crypto,
      registry: this.#registry,
      localCode: slot.code,
      remoteCode: peer.code,
      keys,
      remoteKey: peer.key,
      address: slot.address,
      data: this.#o.data,
      sendTo: this.#sendTo,
      onAccept: this.#onAccept,
      onFailed: (error) =>
        !slot.ended && slot.actor?.send({ type: "PEER_SILENT", error }),
    });
  }

  /** Starts the slot's machine, which sends and resends its flight. */
  start(slot: Slot): void {
    slot.actor = startMachine(this.#clock, {
      tuning: this.#o,
      address: slot.address,
      send: () =>
        this.sendHs(slot.confirmation ?? slot.dial!.initiation(), slot.address),
      resendWithCookie: () =>
        slot.dial && this.sendHs(slot.dial.initiation(), slot.address),
      end: (state, error) => this.#end(slot, state, error),
    });
  }

  /** The peer proved it holds the secret: cache it for `idleTimeout`. */
  confirm(slot: Slot): void {
    slot.actor!.send({ type: "ESTABLISHED" });
    slot.confirmed = true;
    slot.confirmation = undefined;
    this.counters.handshakesCompleted++;
    this.#byKey.set(hex(slot.link!.remoteKey), slot);
    this.#extend(slot, this.#clock.now());
    slot.settle?.resolve(slot);
    slot.settle = undefined;
  }

  /** A data-plane datagram for a linked slot; only authentic ones count. */
  receive(slot: Slot, d: Uint8Array, from: UdpAddress): void {
    const link = slot.link!;
    const rebinds = link.rebinds;
    if (!link.receive(d, from)) return;
    this.#dirty.add(link);
    const now = this.#clock.now();
    if (!slot.confirmed) this.confirm(slot);
    else if (
      now - slot.extendedAt >= Math.min(1000, this.#o.idleTimeout / 16)
    ) {
      this.#extend(slot, now);
    }
    if (link.rebinds !== rebinds) {
      slot.actor!.send({ type: "REBIND", address: addressKey(from) });
    }
  }

  /** The input queue drained: links heard from send their grouped acks. */
  flush(): void {
    for (const link of this.#dirty) link.flush();
    this.#dirty.clear();
  }

  /** Ends a slot through its machine when it has one, else directly. */
  stop(slot: Slot): void {
    if (slot.actor && !slot.ended) slot.actor.send({ type: "CLOSE" });
    this.#end(slot, "closed", undefined);
  }

  close(): void {
    for (const slot of [...this.#slots]) this.stop(slot);
    this.#dirty.clear();
  }

  sendHs(bytes: Uint8Array, to: UdpAddress): void {
    this.counters.handshakeDatagramsSent++;
    this.#sendTo(bytes, to);
  }

  stats(): UdpEndpointStats {
    let sessions = 0, halfOpen = 0, dialing = 0, connections = 0, rebinds = 0;
    for (const slot of this.#slots) {
      if (slot.link) {
        sessions++;
        connections += slot.link.connections;
        rebinds += slot.link.rebinds;
      } else if (slot.answer) halfOpen++;
      else dialing++;
    }
    return {
      ...this.counters,
      sessions,
      halfOpen,
      dialing,
      connections,
      rebinds,
    };
  }

  #extend(slot: Slot, now: number): void {
    slot.extendedAt = now;
    const grace = Math.min(1000, this.#o.idleTimeout / 16);
    this.#registry.extend(slot.code, now + this.#o.idleTimeout + grace);
  }

  #end(slot: Slot, _state: EndState, error: Error | undefined): void {
    if (slot.ended) return;
    slot.ended = true;
    this.#slots.delete(slot);
    const reason = slot.endError ?? error;
    if (slot.link) {
      const key = hex(slot.link.remoteKey);
      if (this.#byKey.get(key) === slot) this.#byKey.delete(key);
      this.#dirty.delete(slot.link);
      slot.link.end(reason);
    }
    slot.dial?.destroy();
    slot.answer?.destroy();
    this.answered(slot);
    slot.settle?.reject(reason ?? new EndpointClosedError());
    this.#registry.release(slot.code);
  }
}
