/**
 * The registry value behind every UDP session hashcode (endpoint.ts): one
 * `Slot` per dial in progress, responder half-open or per-peer secret, so
 * one lookup routes any datagram to its state whatever phase it is in; plus
 * the endpoint's small helpers (a DH-counting crypto provider, the seen-set
 * of initiations, a timeout on the injected clock).
 */
import type { Clock } from "../../protocol/clock.ts";
import { MachineDriver } from "../../protocol/machine_driver.ts";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import { addressKey, type UdpAddress } from "./address.ts";
import { connectionMachine, type EndState } from "./connection_machine.ts";
import type { UdpEndpointTuning } from "./options.ts";
import type {
  InitiatorHandshake,
  ResponderHandshake,
} from "./handshake_roles.ts";
import type { PeerLink, UdpSession } from "./session_cache.ts";

export interface UdpEndpointStats {
  /** Dropped on type, length, hashcode or state alone: no crypto spent. */
  cheapRejects: number;
  /** Initiations whose mac1 (or presented mac2) was wrong. */
  macRejects: number;
  cookieReplies: number;
  /** Initiations already answered: resent the cached response or dropped. */
  replays: number;
  /**
   * Initiations dropped because `maxHalfOpen` half-opens were live, or
   * under load `maxHalfOpenPerAddress` from the same address.
   */
  halfOpenFull: number;
  /** Handshake messages that passed the cheap checks but not Noise. */
  handshakeFailures: number;
  handshakesCompleted: number;
  /** X25519 operations, for proving cookies keep floods away from them. */
  dhOperations: number;
  handshakeDatagramsSent: number;
  /** Live per-peer secrets (established or confirming). */
  sessions: number;
  /** Responder half-open handshakes. */
  halfOpen: number;
  /** Our dials in progress. */
  dialing: number;
  connections: number;
  rebinds: number;
  /** Exceptions caught in receive (a bug or a throwing sendTo). */
  errors: number;
}

export type Counters = Omit<
  UdpEndpointStats,
  "sessions" | "halfOpen" | "dialing" | "connections" | "rebinds"
>;

export function newCounters(): Counters {
  return {
    cheapRejects: 0,
    macRejects: 0,
    cookieReplies: 0,
    replays: 0,
    halfOpenFull: 0,
    handshakeFailures: 0,
    handshakesCompleted: 0,
    dhOperations: 0,
    handshakeDatagramsSent: 0,
    errors: 0,
  };
}

/** A started connection machine for a dial (then DIAL) or an answer. */
export function startMachine(
  clock: Clock,
  options: {
    tuning: UdpEndpointTuning;
    address: UdpAddress;
    send(): void;
    resendWithCookie(): void;
    end(state: EndState, error: Error | undefined): void;
  },
): MachineDriver<typeof connectionMachine> {
  return new MachineDriver(connectionMachine, {
    sendInitiation: options.send,
    resendWithCookie: options.resendWithCookie,
    end: options.end,
    address: addressKey(options.address),
    handshakeRetransmitMs: options.tuning.handshakeRetransmit,
    maxHandshakeAttempts: options.tuning.handshakeAttempts,
    externalIdleExpiry: true,
  }, { clock });
}

export class Slot {
  code = 0;
  address: UdpAddress;
  /** Dialing: our handshake, until the response arrives. */
  dial: InitiatorHandshake | undefined;
  /** Dialing: the confirmation, resent until the peer is heard. */
  confirmation: Uint8Array | undefined;
  /** Responding: the half-open state, until the confirmation. */
  answer: ResponderHandshake | undefined;
  /** Responding: the address this half-open counts against, if proven. */
  provenFrom: string | undefined;
  /** Keys exist: the per-peer secret and its connections. */
  link: PeerLink | undefined;
  /** The peer was heard on the link (or, responding, confirmed). */
  confirmed = false;
  actor: MachineDriver<typeof connectionMachine> | undefined;
  settle:
    | { resolve(slot: Slot): void; reject(error: Error): void }
    | undefined;
  /** The dialer's first connection, opened with the confirmation. */
  firstSession: UdpSession | undefined;
  extendedAt = 0;
  endError: Error | undefined;
  ended = false;

  constructor(address: UdpAddress) {
    this.address = address;
  }
}

/** `crypto` with every X25519 agreement counted. */
export function countingCrypto(
  crypto: CryptoProvider,
  count: () => void,
): CryptoProvider {
  const x = crypto.x25519;
  return Object.create(crypto, {
    x25519: {
      value: {
        generateKeyPair: () => x.generateKeyPair(),
        publicKey: (secret: Uint8Array) => x.publicKey(secret),
        sharedSecret: (secret: Uint8Array, peer: Uint8Array) => {
          count();
          return x.sharedSecret(secret, peer);
        },
      },
    },
  });
}

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** True when `promise` fulfils within `ms` of clock time. */
export function withTimeout(
  clock: Clock,
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = clock.schedule(clock.now() + ms, () => resolve(false));
    promise.then(
      () => (cancel(), resolve(true)),
      () => (cancel(), resolve(false)),
    );
  });
}

/**
 * Initiations already answered, by kind and ephemeral key, each remembered
 * for one handshake deadline and at most `cap` at once (oldest forgotten
 * first), so retransmissions and quick replays cost no DH.
 */
export class SeenSet {
  #seen = new Map<string, { code: number; at: number }>();
  #lifetime: number;
  #cap: number;

  constructor(options: { lifetime: number; cap: number }) {
    this.#lifetime = options.lifetime;
    this.#cap = options.cap;
  }

  get(id: string, now: number): number | undefined {
    this.#prune(now);
    return this.#seen.get(id)?.code;
  }

  add(id: string, code: number, now: number): void {
    this.#seen.set(id, { code, at: now });
    this.#prune(now);
  }

  clear(): void {
    this.#seen.clear();
  }

  #prune(now: number): void {
    const horizon = now - this.#lifetime;
    for (const [id, { at }] of this.#seen) {
      if (at > horizon && this.#seen.size <= this.#cap) break;
      this.#seen.delete(id);
    }
  }
}
