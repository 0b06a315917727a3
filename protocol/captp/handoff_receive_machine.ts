/**
 * The receiver's lifecycle of one handoff (CapTP draft, "Third-party
 * handoffs"; shared/ocapn-notes.md "Third-party handoffs", step 3), as an
 * xstate v5 machine. One actor per signed give received.
 *
 * Why it exists: between the give arriving and the direct reference, the
 * receiver connects to the exporter and withdraws; either may fail or hang.
 * The machine makes sure the promise it handed out settles exactly once,
 * under a named deadline.
 *
 * States
 *   connecting   finding or dialling a session with the exporter
 *   withdrawing  withdraw-gift sent; waiting for the exporter's answer
 *   resolved     final: the promise became the direct reference
 *   broken       final: the promise broke, naming the cause
 *
 * Events
 *   connected  { session }   a session with the exporter is open
 *   withdrawn  { ref }       the exporter answered with the gift
 *   failed     { error }     connecting or withdrawing failed
 *   handoffDeadline          (named delay) nothing settled in time
 *
 * Invariants (asserted by tests/protocol/captp/handoff_machine_test.ts)
 *   1. The promise settles exactly once: `fulfil` or `breakPromise`.
 *   2. withdraw-gift is sent at most once, only after `connected`.
 *   3. `release` runs exactly once, on entry to a final state.
 *   4. The deadline runs only while connecting or withdrawing.
 *
 * Actions are placeholders; handoff_roles.ts provides the real ones.
 */

import { assign, setup } from "xstate";

export interface ReceiveContext {
  error: unknown;
  ref: unknown;
  /** The receiver-exporter session, once connected. */
  session: unknown;
  handoffMs: number;
}

export type ReceiveEvent =
  | { type: "connected"; session: unknown }
  | { type: "withdrawn"; ref: unknown }
  | { type: "failed"; error: unknown };

export type ReceiveState = "connecting" | "withdrawing" | "resolved" | "broken";

const noop = () => {};

export const receiveMachine = setup({
  types: {
    context: {} as ReceiveContext,
    events: {} as ReceiveEvent,
    input: {} as { handoffMs: number },
  },
  actions: {
    connect: noop,
    withdraw: noop,
    fulfil: noop,
    breakPromise: noop,
    release: noop,
    keepSession: assign({
      session: ({ event }) =>
        event.type === "connected" ? event.session : undefined,
    }),
    keepRef: assign({
      ref: ({ event }) => event.type === "withdrawn" ? event.ref : undefined,
    }),
    keepError: assign({
      error: ({ event }) => event.type === "failed" ? event.error : undefined,
    }),
    timedOut: assign({ error: "handoff-deadline" }),
  },
  delays: {
    handoffDeadline: ({ context }) => context.handoffMs,
  },
}).createMachine({
  id: "handoffReceive",
  initial: "pending",
  context: ({ input }) => ({
    error: undefined,
    ref: undefined,
    session: undefined,
    handoffMs: input.handoffMs,
  }),
  states: {
    pending: {
      initial: "connecting",
      after: {
        handoffDeadline: { target: "broken", actions: "timedOut" },
      },
      on: {
        failed: { target: "broken", actions: "keepError" },
      },
      states: {
        connecting: {
          entry: "connect",
          on: {
            connected: { target: "withdrawing", actions: "keepSession" },
            withdrawn: {}, // cannot happen before connected: ignored
          },
        },
        withdrawing: {
          entry: "withdraw",
          on: {
            connected: {},
            withdrawn: {
              target: "#handoffReceive.resolved",
              actions: "keepRef",
            },
          },
        },
      },
    },
    resolved: { type: "final", entry: ["fulfil", "release"] },
    broken: { type: "final", entry: ["breakPromise", "release"] },
  },
});
