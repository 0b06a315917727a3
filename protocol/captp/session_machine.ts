/**
 * The lifecycle of one CapTP session (CapTP draft, "op:start-session" and
 * "op:abort"), as an xstate v5 machine.
 *
 * States
 *   connecting    the connection exists; our op:start-session is not sent
 *   awaitingPeer  ours is sent; waiting for the peer's op:start-session
 *   open          both sides started; application messages flow
 *   aborting      we sent op:abort (or are about to); waiting for the close
 *   closed        final
 *
 * Events
 *   hello.sent          we wrote our op:start-session
 *   hello.accepted      the peer's op:start-session passed every check
 *   hello.rejected      it failed one (version, signature, duplicate, crossed)
 *   message             any other operation arrived
 *   abort.local         we give up (bad input, local close), with a reason
 *   abort.received      the peer sent op:abort, with a reason
 *   connection.closed   the transport is gone
 *   handshakeTimeout    (named delay) no op:start-session in time
 *   abortGrace          (named delay) the transport did not close in time
 *
 * Invariants (asserted by tests/protocol/captp/session_machine_test.ts)
 *   1. Every path that leaves the live states runs `sever` exactly once.
 *   2. op:abort is sent at most once, and never after the peer's op:abort
 *      or a closed connection.
 *   3. `opened` runs at most once, and only on entry to open.
 *   4. closed is final and `finish` runs exactly once, on entry to it.
 *   5. The handshake timer runs only in connecting and awaitingPeer.
 *   6. Every event has a defined outcome in every state (a transition or an
 *      explicit ignore); nothing throws.
 *
 * Actions are placeholders here; session.ts provides the real ones with
 * `machine.provide`, so this file stays a readable transition table.
 */

import { assign, setup } from "xstate";

export interface SessionInput {
  handshakeTimeoutMs: number;
  abortGraceMs: number;
  /**
   * Whose lifecycle this is, for the provided actions to reach: session.ts
   * provides them once for every session (a `provide` per session would
   * build a machine per session), so they find their session here.
   */
  owner?: unknown;
}

export interface SessionContext extends SessionInput {
  reason: string | undefined;
}

export type SessionEvent =
  | { type: "hello.sent" }
  | { type: "hello.accepted" }
  | { type: "hello.rejected"; reason: string }
  | { type: "message" }
  | { type: "abort.local"; reason: string }
  | { type: "abort.received"; reason: string }
  | { type: "connection.closed"; reason: string };

export type SessionState =
  | "connecting"
  | "awaitingPeer"
  | "open"
  | "aborting"
  | "closed";

const noop = () => {};

/** The handshake timer of connecting and awaitingPeer (invariant 5). */
const HANDSHAKE_TIMEOUT = {
  handshakeTimeout: {
    target: "aborting",
    actions: {
      type: "noteReason",
      params: { reason: "handshake timed out" },
    },
  },
} as const;

/** Before both op:start-sessions, any other operation is a protocol error. */
const MESSAGE_BEFORE_START = {
  target: "aborting",
  actions: {
    type: "noteReason",
    params: { reason: "message before op:start-session" },
  },
} as const;

/** Once open, another op:start-session, valid or not, is a protocol error. */
const SECOND_START = {
  target: "aborting",
  actions: {
    type: "noteReason",
    params: { reason: "second op:start-session" },
  },
} as const;

/** How every live state (connecting, awaitingPeer, open) ends. */
const ENDINGS = {
  "abort.local": { target: "aborting", actions: "noteReason" },
  "abort.received": {
    target: "closed",
    actions: ["noteReason", "sever", "closeConnection"],
  },
  "connection.closed": {
    target: "closed",
    actions: ["noteReason", "sever"],
  },
} as const;

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actions: {
    sendHello: noop,
    opened: noop,
    sendAbort: noop,
    sever: noop,
    closeConnection: noop,
    finish: noop,
    /** Keeps the first reason: the one op:abort and severance report. */
    noteReason: assign({
      reason: ({ context, event }, params: { reason?: string } | undefined) =>
        context.reason ?? params?.reason ??
          ("reason" in event ? event.reason : "session ended"),
    }),
  },
  delays: {
    handshakeTimeout: ({ context }) => context.handshakeTimeoutMs,
    abortGrace: ({ context }) => context.abortGraceMs,
  },
}).createMachine({
  id: "captpSession",
  initial: "connecting",
  context: ({ input }) => ({ reason: undefined, ...input }),
  states: {
    connecting: {
      after: HANDSHAKE_TIMEOUT,
      on: {
        "hello.sent": "awaitingPeer",
        "hello.accepted": { target: "open", actions: "sendHello" },
        "hello.rejected": { target: "aborting", actions: "noteReason" },
        message: MESSAGE_BEFORE_START,
        ...ENDINGS,
      },
    },
    awaitingPeer: {
      after: HANDSHAKE_TIMEOUT,
      on: {
        "hello.sent": {}, // already sent: ignored
        "hello.accepted": "open",
        "hello.rejected": { target: "aborting", actions: "noteReason" },
        message: MESSAGE_BEFORE_START,
        ...ENDINGS,
      },
    },
    open: {
      entry: "opened",
      on: {
        "hello.sent": {}, // ignored
        "hello.accepted": SECOND_START,
        "hello.rejected": SECOND_START,
        message: {}, // handled by the engine outside the machine (speed)
        ...ENDINGS,
      },
    },
    aborting: {
      entry: ["sendAbort", "sever", "closeConnection"],
      after: { abortGrace: "closed" },
      on: {
        "hello.sent": {},
        "hello.accepted": {},
        "hello.rejected": {},
        message: {}, // input after our op:abort is dropped
        "abort.local": {},
        "abort.received": "closed",
        "connection.closed": "closed",
      },
    },
    closed: {
      type: "final",
      entry: "finish",
    },
  },
});

export const SESSION_EVENTS: SessionEvent["type"][] = [
  "hello.sent",
  "hello.accepted",
  "hello.rejected",
  "message",
  "abort.local",
  "abort.received",
  "connection.closed",
];
