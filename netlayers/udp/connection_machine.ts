/**
 * The lifecycle of one UDP netlayer connection to a peer (README "UDP
 * netlayer"), as an xstate v5 machine: the handshake over datagrams with its
 * retransmission, the established session that is cached while idle so a
 * returning peer pays no new handshake, and the three ways it ends.
 *
 * States:
 *   idle          created; nothing sent or received
 *   handshaking   (initiator) initiation sent; resent after
 *                 `handshakeRetransmit`, each wait twice the one before up
 *                 to HANDSHAKE_RETRANSMIT_CAP_MS, `maxHandshakeAttempts`
 *                 flights in all (handshakeDeadline() sums the waits); a
 *                 cookie reply resends at once with the cookie's mac2
 *   established   keys and session hashcodes exist (a UdpChannel runs)
 *     .active     outstanding work: the peer must be heard from within
 *                 `silentPeer`, each ACTIVITY restarts the deadline
 *     .quiet      no outstanding work: the session stays cached for
 *                 `idleExpiry` (15 minutes) after the last ACTIVITY
 *   failed        handshake attempts exhausted, handshake error, or the
 *                 peer went silent with work pending (final)
 *   expired       idle past `idleExpiry` (or EXPIRE from the owner, whose
 *                 registry deadline is then the idle timer); the session
 *                 and its keys are dropped and a later contact handshakes
 *                 again (final)
 *   closed        CLOSE from the owner (final)
 * Events: DIAL, ESTABLISHED (handshake done, either role), COOKIE { reply },
 *   HANDSHAKE_ERROR { error }, WORK (outstanding work began), QUIET (it
 *   ended), ACTIVITY (an authentic datagram arrived; the owner rate-limits
 *   it), REBIND { address } (an authentic datagram from a new address),
 *   PEER_SILENT { error } (the channel's own watchdog), EXPIRE (the owner's
 *   idle deadline passed; only with `externalIdleExpiry`), CLOSE.
 * Invariants: every path ends in exactly one of failed, expired or closed,
 *   and `end` runs exactly once, on entering it; no handshake datagram is
 *   sent outside `handshaking`; an address changes only on REBIND in
 *   `established` (only authenticated datagrams make one), never before.
 */
import { assign, setup } from "xstate";
import { HandshakeTimeoutError } from "./errors.ts";

export const DEFAULT_HANDSHAKE_RETRANSMIT_MS = 1_000;
export const DEFAULT_MAX_HANDSHAKE_ATTEMPTS = 5;
/**
 * Backoff stops doubling here: a peer that is merely slow or lossy is still
 * asked every few seconds, and the default deadline stays 15 s.
 */
export const HANDSHAKE_RETRANSMIT_CAP_MS = 4_000;
export const DEFAULT_IDLE_EXPIRY_MS = 15 * 60 * 1000;
export const DEFAULT_SILENT_PEER_MS = 15_000;

export type EndState = "failed" | "expired" | "closed";

export interface ConnectionMachineInput {
  /** Sends (or resends) the handshake initiation. */
  readonly sendInitiation: () => void;
  /** Resends the initiation stamped with the cookie from `reply`. */
  readonly resendWithCookie?: (reply: Uint8Array) => void;
  /** Runs once when the machine reaches a final state. */
  readonly end?: (state: EndState, error: Error | undefined) => void;
  readonly address?: string;
  readonly handshakeRetransmitMs?: number;
  readonly maxHandshakeAttempts?: number;
  readonly idleExpiryMs?: number;
  readonly silentPeerMs?: number;
  /**
   * The owner keeps the idle deadline (a registry entry refreshed by
   * traffic) and sends EXPIRE; the machine's own idle timer is then inert.
   */
  readonly externalIdleExpiry?: boolean;
}

type Schedule = Pick<
  ConnectionMachineInput,
  "handshakeRetransmitMs" | "maxHandshakeAttempts"
>;

/**
 * The wait after flight `n` (0 for the first) before the next flight or,
 * after the last, failure: doubling, so a congested or distant peer is not
 * hammered, and capped (never below the first wait).
 */
export function retransmitDelay(n: number, schedule: Schedule): number {
  const first = schedule.handshakeRetransmitMs ??
    DEFAULT_HANDSHAKE_RETRANSMIT_MS;
  return Math.min(
    first * 2 ** n,
    Math.max(first, HANDSHAKE_RETRANSMIT_CAP_MS),
  );
}

/** From the first flight to failure: the sum of every wait. */
export function handshakeDeadline(schedule: Schedule): number {
  const flights = schedule.maxHandshakeAttempts ??
    DEFAULT_MAX_HANDSHAKE_ATTEMPTS;
  let total = 0;
  for (let n = 0; n < flights; n++) total += retransmitDelay(n, schedule);
  return total;
}

interface Context {
  readonly input: ConnectionMachineInput;
  attempts: number;
  address: string | undefined;
  error: Error | undefined;
}

export type ConnectionEvent =
  | { type: "DIAL" }
  | { type: "ESTABLISHED" }
  | { type: "COOKIE"; reply: Uint8Array }
  | { type: "HANDSHAKE_ERROR"; error: Error }
  | { type: "WORK" }
  | { type: "QUIET" }
  | { type: "ACTIVITY" }
  | { type: "REBIND"; address: string }
  | { type: "PEER_SILENT"; error: Error }
  | { type: "EXPIRE" }
  | { type: "CLOSE" };

export const connectionMachine = setup({
  types: {
    context: {} as Context,
    events: {} as ConnectionEvent,
    input: {} as ConnectionMachineInput,
  },
  actions: {
    sendInitiation: assign({
      attempts: ({ context }) => {
        context.input.sendInitiation();
        return context.attempts + 1;
      },
    }),
    resendWithCookie: ({ context, event }) => {
      if (event.type === "COOKIE") {
        context.input.resendWithCookie?.(event.reply);
      }
    },
    recordError: assign({
      error: ({ context, event }) =>
        "error" in event ? event.error : context.error,
    }),
    recordAttemptsExhausted: assign({
      error: ({ context }) =>
        new HandshakeTimeoutError(
          `Handshake unanswered after "${context.attempts}" attempts`,
        ),
    }),
    recordSilence: assign({
      error: ({ context }) =>
        new Error(
          `Peer silent for "${
            context.input.silentPeerMs ?? DEFAULT_SILENT_PEER_MS
          }" ms`,
        ),
    }),
    rebind: assign({
      address: ({ context, event }) =>
        event.type === "REBIND" ? event.address : context.address,
    }),
    endFailed: ({ context }) => context.input.end?.("failed", context.error),
    endExpired: ({ context }) => context.input.end?.("expired", undefined),
    endClosed: ({ context }) => context.input.end?.("closed", undefined),
  },
  guards: {
    ownsIdleTimer: ({ context }) => context.input.externalIdleExpiry !== true,
    attemptsLeft: ({ context }) =>
      context.attempts <
        (context.input.maxHandshakeAttempts ?? DEFAULT_MAX_HANDSHAKE_ATTEMPTS),
  },
  delays: {
    handshakeRetransmit: ({ context }) =>
      retransmitDelay(context.attempts - 1, context.input),
    idleExpiry: ({ context }) =>
      context.input.idleExpiryMs ?? DEFAULT_IDLE_EXPIRY_MS,
    silentPeer: ({ context }) =>
      context.input.silentPeerMs ?? DEFAULT_SILENT_PEER_MS,
  },
}).createMachine({
  id: "udpConnection",
  context: ({ input }) => ({
    input,
    attempts: 0,
    address: input.address,
    error: undefined,
  }),
  initial: "idle",
  states: {
    idle: {
      on: {
        DIAL: "handshaking",
        ESTABLISHED: "established",
        CLOSE: "closed",
      },
    },
    handshaking: {
      entry: "sendInitiation",
      after: {
        handshakeRetransmit: [
          { guard: "attemptsLeft", target: "handshaking", reenter: true },
          { target: "failed", actions: "recordAttemptsExhausted" },
        ],
      },
      on: {
        COOKIE: { actions: "resendWithCookie" },
        ESTABLISHED: "established",
        HANDSHAKE_ERROR: { target: "failed", actions: "recordError" },
        CLOSE: "closed",
      },
    },
    established: {
      initial: "quiet",
      states: {
        quiet: {
          after: {
            idleExpiry: {
              guard: "ownsIdleTimer",
              target: "#udpConnection.expired",
            },
          },
          on: {
            WORK: "active",
            ACTIVITY: { target: "quiet", reenter: true },
          },
        },
        active: {
          after: {
            silentPeer: {
              target: "#udpConnection.failed",
              actions: "recordSilence",
            },
          },
          on: {
            QUIET: "quiet",
            ACTIVITY: { target: "active", reenter: true },
          },
        },
      },
      on: {
        REBIND: { actions: "rebind" },
        PEER_SILENT: { target: "failed", actions: "recordError" },
        EXPIRE: "expired",
        CLOSE: "closed",
      },
    },
    failed: { type: "final", entry: "endFailed" },
    expired: { type: "final", entry: "endExpired" },
    closed: { type: "final", entry: "endClosed" },
  },
});
