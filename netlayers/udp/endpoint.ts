/**
 * The pure UDP endpoint (README "UDP netlayer"): one local identity, one
 * socket's worth of datagrams in (`receive`) and out (`sendTo`), no sockets,
 * timers or Deno APIs of its own, so tests run two of them over a simulated
 * network under a ManualClock.
 *
 * Routing never trusts addresses. Every routable datagram names a session
 * hashcode minted from the registry (kind "udp-session"); a half-open
 * handshake, a dial in progress and an established per-peer secret are all
 * such entries, so data, responses and cookie replies reach their state by
 * `registry.lookup(peekSession(d), "udp-session")` alone. The order of
 * checks on a stranger's datagram is cheapest first: type and length (no
 * crypto), then the hashcode lookup, then for an initiation the mac1 (one
 * BLAKE2s) and, under load, mac2 or a stateless cookie reply; public-key
 * work comes last, and only a confirmed handshake makes a session.
 *
 * Load and bounds: initiations need a cookie once `loadHalfOpen` responder
 * half-opens are live, their rate exceeds `loadRate`, or `forceCookies`;
 * past `maxHalfOpen` they are dropped. Half-opens expire at the handshake
 * deadline (a registry deadline). Retransmitted initiations are recognised
 * by their ephemeral key in a time-bounded seen-set and answered from the
 * cached response, never with a second DH or session. A replay after the
 * set forgot it costs one DH and one half-open that expires: without the
 * initiator's ephemeral secret nobody can confirm it (handshake.ts). We
 * chose that over WireGuard's timestamp because the Noise payloads here are
 * the identity keys (peer_handshake.ts), and it needs no clock agreement.
 *
 * The per-peer secret (session_cache.ts) lives `idleTimeout` (15 minutes)
 * after the last authentic datagram: its registry deadline, pushed forward
 * at most once a second. `connect()` to a key with a live secret opens a
 * connection over it at once; the open marker's ack proves the peer still
 * holds it, else the secret is dropped and a handshake follows. Its
 * lifecycle runs on connection_machine.ts (dial, retransmit, establish,
 * rebind, end).
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { Registry } from "../../protocol/registry.ts";
import type { NoiseIdentity } from "../noise/peer_handshake.ts";
import { addressKey, type UdpAddress } from "./address.ts";
import type { EndState } from "./connection_machine.ts";
import {
  EndpointClosedError,
  HandshakeTimeoutError,
  SessionClosedError,
} from "./errors.ts";
import {
  cookieDatagram,
  type DataKeys,
  InitiationGate,
  initiationId,
  isInitiation,
} from "./handshake.ts";
import { InitiatorHandshake, ResponderHandshake } from "./handshake_roles.ts";
import { resolveEndpointTuning, type UdpEndpointTuning } from "./options.ts";
import { PeerLink, type UdpSession } from "./session_cache.ts";
import { DatagramType, peekSession, peekType } from "./wire.ts";
import {
  type Counters,
  countingCrypto,
  hex,
  newCounters,
  SeenSet,
  Slot,
  startMachine,
  type UdpEndpointStats,
  withTimeout,
} from "./endpoint_slot.ts";

export type { UdpSession } from "./session_cache.ts";
export type { UdpEndpointTuning } from "./options.ts";
export type { UdpEndpointStats } from "./endpoint_slot.ts";
export const SESSION_KIND = "udp-session";

export interface UdpEndpointOptions {
  clock: Clock;
  crypto: CryptoProvider;
  registry: Registry;
  /** Our Ed25519 key and its X25519 form. */
  identity: NoiseIdentity;
  sendTo(bytes: Uint8Array, to: UdpAddress): void;
  /** A new inbound connection is ready. */
  onAccept(session: UdpSession): void;
  options?: Partial<UdpEndpointTuning>;
}

export class UdpEndpoint {
  #o: UdpEndpointTuning;
  #clock: Clock;
  #crypto: CryptoProvider;
  #registry: Registry;
  #identity: NoiseIdentity;
  #sendTo: (bytes: Uint8Array, to: UdpAddress) => void;
  #onAccept: (session: UdpSession) => void;
  #gate: InitiationGate;
  #slots = new Set<Slot>();
  #byKey = new Map<string, Slot>();
  #dials = new Map<string, Promise<Slot>>();
  #seen: SeenSet;
  #dirty = new Set<PeerLink>();
  #closed = false;
  #c: Counters = newCounters();

  constructor(options: UdpEndpointOptions) {
    this.#o = resolveEndpointTuning(options.options);
    this.#clock = options.clock;
    this.#registry = options.registry;
    this.#identity = options.identity;
    this.#sendTo = options.sendTo;
    this.#onAccept = options.onAccept;
    this.#crypto = countingCrypto(options.crypto, () => this.#c.dhOperations++);
    this.#seen = new SeenSet({
      lifetime: this.#handshakeTimeout,
      cap: 4 * this.#o.maxHalfOpen,
    });
    this.#gate = new InitiationGate(options.crypto, {
      clock: options.clock,
      identity: options.identity,
      loadRate: this.#o.loadRate,
    });
  }

  get #handshakeTimeout(): number {
    return this.#o.handshakeRetransmit * this.#o.handshakeAttempts;
  }

  /** One datagram from the socket; never throws on bad input. */
  receive(datagram: Uint8Array, from: UdpAddress): void {
    if (this.#closed) return;
    try {
      this.#route(datagram, from);
    } catch {
      this.#c.errors++;
    }
  }

  /** The socket's input queue drained: send grouped acks. */
  flush(): void {
    for (const link of this.#dirty) link.flush();
    this.#dirty.clear();
  }

  async connect(
    peer: { key?: Uint8Array; address: UdpAddress },
  ): Promise<UdpSession> {
    if (peer.key !== undefined && peer.key.length !== 32) {
      throw new TypeError(
        `Peer key must be 32 bytes, got "${peer.key.length}"`,
      );
    }
    for (let round = 0;; round++) {
      if (this.#closed) throw new EndpointClosedError();
      const cached = round === 0 ? this.#cached(peer) : undefined;
      if (cached !== undefined) {
        const { session, acked } = cached.link!.open();
        if (await withTimeout(this.#clock, acked, this.#handshakeTimeout)) {
          return session;
        }
        cached.endError = new HandshakeTimeoutError(
          "Cached session unanswered",
        );
        cached.actor?.send({ type: "CLOSE" });
        continue;
      }
      const slot = await this.#dial(peer);
      const first = slot.firstSession;
      slot.firstSession = undefined;
      return first ?? slot.link!.open().session;
    }
  }

  /** Ends every connection, handshake and secret; frees every entry. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of [...this.#slots]) this.#stop(slot);
    this.#seen.clear();
    this.#dirty.clear();
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
    return { ...this.#c, sessions, halfOpen, dialing, connections, rebinds };
  }

  #route(d: Uint8Array, from: UdpAddress): void {
    const type = peekType(d);
    if (type === DatagramType.handshakeInitiation) {
      return this.#onInitiation(d, from);
    }
    const slot = type === undefined
      ? undefined
      : this.#registry.lookup<Slot>(peekSession(d), SESSION_KIND);
    if (slot === undefined || !this.#slots.has(slot)) {
      return void this.#c.cheapRejects++;
    }
    if (type === DatagramType.handshakeResponse && slot.dial) {
      this.#onResponse(slot, d);
    } else if (
      type === DatagramType.handshakeResponse && slot.answer?.confirmable(d)
    ) {
      this.#onConfirmation(slot, d, from);
    } else if (
      type === DatagramType.cookieReply && slot.dial?.acceptCookie(d)
    ) {
      slot.actor!.send({ type: "COOKIE", reply: d });
    } else if (type! > DatagramType.cookieReply && slot.link) {
      const rebinds = slot.link.rebinds;
      if (!slot.link.receive(d, from)) return;
      this.#dirty.add(slot.link);
      this.#heard(slot);
      if (slot.link.rebinds !== rebinds) {
        slot.actor!.send({ type: "REBIND", address: addressKey(from) });
      }
    } else {
      this.#c.cheapRejects++;
    }
  }

  #onInitiation(d: Uint8Array, from: UdpAddress): void {
    const c = this.#c;
    if (!isInitiation(d)) return void c.cheapRejects++;
    const answering = this.stats().halfOpen;
    const loaded = this.#o.forceCookies || answering >= this.#o.loadHalfOpen;
    const verdict = this.#gate.check(d, addressKey(from), loaded);
    if (verdict.verdict === "drop") return void c.macRejects++;
    if (verdict.verdict === "cookie") {
      c.cookieReplies++;
      return this.#sendTo(cookieDatagram(peekSession(d), verdict.reply), from);
    }
    const id = initiationId(d);
    const seen = this.#seen.get(id, this.#clock.now());
    if (seen !== undefined) {
      c.replays++;
      const slot = this.#registry.lookup<Slot>(seen, SESSION_KIND);
      const response = slot?.answer?.response;
      if (response && this.#slots.has(slot!)) this.#sendHs(response, from);
      return;
    }
    if (answering >= this.#o.maxHalfOpen) return void c.halfOpenFull++;
    let answer: ResponderHandshake;
    try {
      answer = new ResponderHandshake(this.#crypto, {
        identity: this.#identity,
        initiation: d,
      });
    } catch {
      return void c.handshakeFailures++;
    }
    const slot = new Slot(from);
    slot.answer = answer;
    this.#mint(slot, this.#handshakeTimeout);
    this.#seen.add(id, slot.code, this.#clock.now());
    this.#sendHs(answer.frame(slot.code), from);
  }

  #onConfirmation(slot: Slot, d: Uint8Array, from: UdpAddress): void {
    const done = slot.answer!.confirm(d, slot.code);
    slot.answer = undefined;
    if (done === undefined) {
      this.#c.handshakeFailures++;
      return this.#stop(slot);
    }
    slot.address = from;
    this.#link(slot, done.keys, d, done.remoteKey);
    slot.actor = this.#machine(slot);
    slot.actor.send({ type: "ESTABLISHED" });
    this.#established(slot);
  }

  #onResponse(slot: Slot, d: Uint8Array): void {
    const done = slot.dial!.respond(d);
    if (done === undefined) return void this.#c.handshakeFailures++;
    slot.dial!.destroy();
    slot.dial = undefined;
    slot.confirmation = done.confirmation;
    this.#link(slot, done.keys, d, done.remoteKey, done.remoteCode);
    this.#sendHs(done.confirmation, slot.address);
    slot.firstSession = slot.link!.open().session;
  }

  #dial(peer: { key?: Uint8Array; address: UdpAddress }): Promise<Slot> {
    const dk = peer.key ? hex(peer.key) : `xx ${addressKey(peer.address)}`;
    const existing = this.#dials.get(dk);
    if (existing) return existing;
    const promise = new Promise<Slot>((resolve, reject) => {
      const slot = new Slot(peer.address);
      slot.settle = { resolve, reject };
      this.#mint(slot, this.#handshakeTimeout + this.#o.handshakeRetransmit);
      try {
        slot.dial = new InitiatorHandshake(this.#crypto, {
          clock: this.#clock,
          identity: this.#identity,
          remoteKey: peer.key,
          localCode: slot.code,
        });
      } catch (error) {
        slot.endError = error as Error;
        return this.#stop(slot);
      }
      slot.actor = this.#machine(slot);
      slot.actor.send({ type: "DIAL" });
    });
    this.#dials.set(dk, promise);
    const forget = () => this.#dials.delete(dk);
    promise.then(forget, forget);
    return promise;
  }

  #cached(peer: { key?: Uint8Array; address: UdpAddress }): Slot | undefined {
    const margin = Math.min(30_000, this.#o.idleTimeout / 8);
    const fresh = (s: Slot) =>
      s.confirmed &&
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

  #link(
    slot: Slot,
    keys: DataKeys,
    d: Uint8Array,
    remoteKey: Uint8Array,
    remoteCode = new DataView(d.buffer, d.byteOffset).getUint32(8),
  ): void {
    slot.link = new PeerLink({
      clock: this.#clock,
      crypto: this.#crypto,
      registry: this.#registry,
      localCode: slot.code,
      remoteCode,
      keys,
      remoteKey,
      address: slot.address,
      data: this.#o.data,
      sendTo: this.#sendTo,
      onAccept: this.#onAccept,
      onFailed: (error) =>
        !slot.ended && slot.actor?.send({ type: "PEER_SILENT", error }),
    });
  }

  /** An authentic datagram on a link: confirms a dial, refreshes idle. */
  #heard(slot: Slot): void {
    if (!slot.confirmed) {
      slot.actor!.send({ type: "ESTABLISHED" });
      return this.#established(slot);
    }
    const now = this.#clock.now();
    if (now - slot.extendedAt >= Math.min(1000, this.#o.idleTimeout / 16)) {
      this.#extend(slot, now);
    }
  }

  #established(slot: Slot): void {
    slot.confirmed = true;
    slot.confirmation = undefined;
    this.#c.handshakesCompleted++;
    this.#byKey.set(hex(slot.link!.remoteKey), slot);
    this.#extend(slot, this.#clock.now());
    slot.settle?.resolve(slot);
    slot.settle = undefined;
  }

  #extend(slot: Slot, now: number): void {
    slot.extendedAt = now;
    const grace = Math.min(1000, this.#o.idleTimeout / 16);
    this.#registry.extend(slot.code, now + this.#o.idleTimeout + grace);
  }

  #mint(slot: Slot, lifetime: number): void {
    slot.code = this.#registry.mint(SESSION_KIND, slot, {
      deadline: this.#clock.now() + lifetime,
      dispose: (_slot, why) => {
        if (why === "expired" && slot.confirmed) {
          slot.endError = new SessionClosedError("idle");
        } else if (why === "expired") {
          slot.endError = new HandshakeTimeoutError(
            "Handshake deadline passed",
          );
        }
        this.#stop(slot);
      },
    });
    this.#slots.add(slot);
  }

  #machine(slot: Slot) {
    return startMachine(this.#clock, {
      tuning: this.#o,
      address: slot.address,
      send: () =>
        this.#sendHs(
          slot.confirmation ?? slot.dial!.initiation(),
          slot.address,
        ),
      resendWithCookie: () =>
        slot.dial && this.#sendHs(slot.dial.initiation(), slot.address),
      end: (state, error) => this.#end(slot, state, error),
    });
  }

  /** Ends a slot through its machine when it has one, else directly. */
  #stop(slot: Slot): void {
    if (slot.actor && !slot.ended) slot.actor.send({ type: "CLOSE" });
    this.#end(slot, "closed", undefined);
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
    slot.settle?.reject(reason ?? new EndpointClosedError());
    this.#registry.release(slot.code);
  }

  #sendHs(bytes: Uint8Array, to: UdpAddress): void {
    this.#c.handshakeDatagramsSent++;
    this.#sendTo(bytes, to);
  }
}
