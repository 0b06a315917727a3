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
 * past `maxHalfOpen` they are dropped, and under load past
 * `maxHalfOpenPerAddress` cookie-proven ones from one address, so one
 * sender cannot lock everyone else out (half-opens made before load, whose
 * address may be spoofed, count against nobody). Half-opens expire at the handshake
 * deadline (a registry deadline). Retransmitted initiations are recognised
 * by their ephemeral key in a time-bounded seen-set and answered from the
 * cached response, never with a second DH or session. A replay after the
 * set forgot it costs one DH and one half-open that expires: without the
 * initiator's ephemeral secret nobody can confirm it (handshake.ts). We
 * chose that over WireGuard's timestamp because the Noise payloads here are
 * the identity keys (peer_handshake.ts), and it needs no clock agreement.
 *
 * The per-peer secret (session_cache.ts) lives `idleTimeout` (15 minutes)
 * after the last authentic datagram; slot_table.ts keeps every slot's
 * entry, deadline and end. `connect()` to a key with a live secret opens a
 * connection over it at once; the open marker's ack within the handshake
 * deadline proves the peer still holds it (a restarted peer does not),
 * else the secret is dropped and a handshake follows.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { Registry } from "../../protocol/registry.ts";
import type { NoiseIdentity } from "../noise/peer_handshake.ts";
import { addressKey, type UdpAddress } from "./address.ts";
import { handshakeDeadline } from "./connection_machine.ts";
import { EndpointClosedError, HandshakeTimeoutError } from "./errors.ts";
import {
  cookieDatagram,
  InitiationGate,
  initiationId,
  isInitiation,
  peekSender,
} from "./handshake.ts";
import { InitiatorHandshake, ResponderHandshake } from "./handshake_roles.ts";
import { resolveEndpointTuning, type UdpEndpointTuning } from "./options.ts";
import type { UdpSession } from "./session_cache.ts";
import { SlotTable } from "./slot_table.ts";
import { DatagramType, peekSession, peekType } from "./wire.ts";
import {
  hex,
  SeenSet,
  type Slot,
  type UdpEndpointStats,
  withTimeout,
} from "./endpoint_slot.ts";

export type { UdpSession } from "./session_cache.ts";
export type { UdpEndpointTuning } from "./options.ts";
export type { UdpEndpointStats } from "./endpoint_slot.ts";
export { SESSION_KIND } from "./slot_table.ts";

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
  #identity: NoiseIdentity;
  #table: SlotTable;
  #c: SlotTable["counters"];
  #gate: InitiationGate;
  #seen: SeenSet;
  #dials = new Map<string, Promise<Slot>>();
  /** From the first handshake flight to giving up (ms). */
  #deadline: number;
  #closed = false;

  constructor(options: UdpEndpointOptions) {
    this.#o = resolveEndpointTuning(options.options);
    this.#clock = options.clock;
    this.#identity = options.identity;
    this.#table = new SlotTable({
      clock: options.clock,
      crypto: options.crypto,
      registry: options.registry,
      tuning: this.#o,
      sendTo: options.sendTo,
      onAccept: options.onAccept,
    });
    this.#c = this.#table.counters;
    this.#deadline = handshakeDeadline({
      handshakeRetransmitMs: this.#o.handshakeRetransmit,
      maxHandshakeAttempts: this.#o.handshakeAttempts,
    });
    this.#seen = new SeenSet({
      lifetime: this.#deadline,
      cap: 4 * this.#o.maxHalfOpen,
    });
    this.#gate = new InitiationGate(options.crypto, {
      clock: options.clock,
      identity: options.identity,
      loadRate: this.#o.loadRate,
    });
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
    this.#table.flush();
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
      const cached = round === 0 ? this.#table.cached(peer) : undefined;
      if (cached !== undefined) {
        const { session, acked } = cached.link!.open();
        if (await withTimeout(this.#clock, acked, this.#deadline)) {
          return session;
        }
        cached.endError = new HandshakeTimeoutError(
          "Cached session unanswered",
        );
        this.#table.stop(cached);
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
    this.#table.close();
    this.#seen.clear();
  }

  stats(): UdpEndpointStats {
    return this.#table.stats();
  }

  #route(d: Uint8Array, from: UdpAddress): void {
    const type = peekType(d);
    if (type === DatagramType.handshakeInitiation) {
      return this.#onInitiation(d, from);
    }
    const slot = type === undefined
      ? undefined
      : this.#table.lookup(peekSession(d));
    if (slot === undefined) return void this.#c.cheapRejects++;
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
      this.#table.receive(slot, d, from);
    } else {
      this.#c.cheapRejects++;
    }
  }

  #onInitiation(d: Uint8Array, from: UdpAddress): void {
    const c = this.#c;
    if (!isInitiation(d)) return void c.cheapRejects++;
    const answering = this.stats().halfOpen;
    const loaded = this.#o.forceCookies || answering >= this.#o.loadHalfOpen;
    const where = addressKey(from);
    const verdict = this.#gate.check(d, where, loaded);
    if (verdict.verdict === "drop") return void c.macRejects++;
    if (verdict.verdict === "cookie") {
      c.cookieReplies++;
      const reply = cookieDatagram(peekSession(d), verdict.reply);
      return this.#table.sendHs(reply, from);
    }
    const id = initiationId(d);
    const seen = this.#seen.get(id, this.#clock.now());
    if (seen !== undefined) {
      c.replays++;
      const response = this.#table.lookup(seen)?.answer?.response;
      if (response) this.#table.sendHs(response, from);
      return;
    }
    if (answering >= this.#o.maxHalfOpen) return void c.halfOpenFull++;
    // Accepted under load: its cookie proved the address.
    if (
      this.#gate.cookiesDemanded &&
      this.#table.halfOpenFrom(where) >= this.#o.maxHalfOpenPerAddress
    ) return void c.halfOpenFull++;
    let answer: ResponderHandshake;
    try {
      answer = new ResponderHandshake(this.#table.crypto, {
        identity: this.#identity,
        initiation: d,
      });
    } catch {
      return void c.handshakeFailures++;
    }
    const slot = this.#table.open(from, this.#deadline);
    this.#table.answer(slot, answer, this.#gate.cookiesDemanded);
    this.#seen.add(id, slot.code, this.#clock.now());
    this.#table.sendHs(answer.frame(slot.code), from);
  }

  #onConfirmation(slot: Slot, d: Uint8Array, from: UdpAddress): void {
    const answer = slot.answer!;
    const done = answer.confirm(d, slot.code);
    if (done === undefined) {
      // A forged or damaged confirmation leaves the half-open waiting for
      // the real one (handshake_roles.ts), up to a few times.
      this.#c.handshakeFailures++;
      if (answer.spent) this.#table.stop(slot);
      return;
    }
    this.#table.answered(slot);
    slot.address = from;
    this.#table.link(slot, done.keys, {
      key: done.remoteKey,
      code: peekSender(d),
    });
    this.#table.start(slot);
    this.#table.confirm(slot);
  }

  #onResponse(slot: Slot, d: Uint8Array): void {
    const done = slot.dial!.respond(d);
    if (done === undefined) return void this.#c.handshakeFailures++;
    slot.dial!.destroy();
    slot.dial = undefined;
    slot.confirmation = done.confirmation;
    this.#table.link(slot, done.keys, {
      key: done.remoteKey,
      code: done.remoteCode,
    });
    this.#table.sendHs(done.confirmation, slot.address);
    slot.firstSession = slot.link!.open().session;
  }

  #dial(peer: { key?: Uint8Array; address: UdpAddress }): Promise<Slot> {
    const dk = peer.key ? hex(peer.key) : `xx ${addressKey(peer.address)}`;
    const existing = this.#dials.get(dk);
    if (existing) return existing;
    const promise = new Promise<Slot>((resolve, reject) => {
      // A retransmit's margin past the deadline: the machine fails first,
      // with the more telling error.
      const slot = this.#table.open(
        peer.address,
        this.#deadline + this.#o.handshakeRetransmit,
      );
      slot.settle = { resolve, reject };
      try {
        slot.dial = new InitiatorHandshake(this.#table.crypto, {
          clock: this.#clock,
          identity: this.#identity,
          remoteKey: peer.key,
          localCode: slot.code,
        });
      } catch (error) {
        slot.endError = error as Error;
        return this.#table.stop(slot);
      }
      this.#table.start(slot);
      slot.actor!.send({ type: "DIAL" });
    });
    this.#dials.set(dk, promise);
    const forget = () => this.#dials.delete(dk);
    promise.then(forget, forget);
    return promise;
  }
}
