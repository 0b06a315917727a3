/**
 * The exporter's lifecycle of one gift (CapTP draft, "Third-party
 * handoffs"; shared/ocapn-notes.md "Third-party handoffs", step 4), as an
 * xstate v5 machine. One actor per (gifter session, gift id).
 *
 * Why it exists: deposit-gift and withdraw-gift may arrive in either order,
 * over two different sessions, and either side may never come. The machine
 * keeps the pairing rule in one table: whichever half comes first waits,
 * under a named deadline, for the other; the gift is handed out once.
 * The draft says nothing of a second deposit under one gift id; the safe
 * reading, and Endo's, is that the first deposit stands and the second is
 * refused (`refuseDeposit`), so a gift id names one gift.
 *
 * States
 *   idle             nothing arrived yet (left on the first event)
 *   deposited        the gifter's deposit-gift waits for a withdraw
 *   awaitingDeposit  a checked withdraw-gift waits for the deposit
 *   given            final: the one withdraw got the gift
 *   expired          final: the deadline passed first
 *   cancelled        final: a session the gift depended on closed
 *
 * Events
 *   deposit   { ref, refuse? }  deposit-gift arrived (`refuse` hears why
 *                               a duplicate was turned away)
 *   withdraw  { waiter }        a withdraw-gift that passed every check
 *   cancel    { reason }        the gifter's or the receiver's session closed
 *   depositDeadline         (named delay) nobody withdrew the deposit in time
 *   withdrawDeadline        (named delay) the deposit never came
 *
 * Invariants (asserted by tests/protocol/captp/handoff_machine_test.ts)
 *   1. A gift is handed to at most one waiter, exactly once (`handOut`).
 *   2. Every waiter is settled exactly once: handed the gift or broken.
 *   3. A second deposit or withdraw for the same gift never displaces the
 *      first: it is refused, naming why (gift-already-deposited,
 *      gift-already-withdrawn). gifts.ts refuses both once the gift id was
 *      handed out (`retireGiftId`), so a used id never opens a new gift.
 *   4. Every path reaches a final state, and `release` runs exactly once,
 *      on entry to it (so the registry entry never leaks).
 *   5. Deadlines run only in deposited and awaitingDeposit.
 *
 * Actions `release` and `retireGiftId` are placeholders; gifts.ts
 * provides the real ones.
 */

import { assign, setup } from "xstate";
import type { HandoffFailure } from "./errors.ts";

/** A withdraw waiting for its gift: settled exactly once. */
export interface GiftWaiter {
  resolve(ref: unknown): void;
  reject(failure: HandoffFailure): void;
}

export interface GiftContext {
  ref: unknown;
  waiter: GiftWaiter | undefined;
  depositMs: number;
  withdrawMs: number;
}

export type GiftEvent =
  | {
    type: "deposit";
    ref: unknown;
    /** Told why a deposit was turned away (the first deposit stands). */
    refuse?(failure: HandoffFailure): void;
  }
  | { type: "withdraw"; waiter: GiftWaiter }
  | { type: "cancel"; reason: string };

export type GiftState =
  | "idle"
  | "deposited"
  | "awaitingDeposit"
  | "given"
  | "expired"
  | "cancelled";

const noop = () => {};

export const giftMachine = setup({
  types: {
    context: {} as GiftContext,
    events: {} as GiftEvent,
    input: {} as { depositMs: number; withdrawMs: number },
  },
  actions: {
    release: noop,
    retireGiftId: noop,
    keepGift: assign({
      ref: ({ event }) => event.type === "deposit" ? event.ref : undefined,
    }),
    keepWaiter: assign({
      waiter: ({ event }) =>
        event.type === "withdraw" ? event.waiter : undefined,
    }),
    /** The gift goes to the waiter that is waiting or the one arriving. */
    handOut: ({ context, event }) => {
      const waiter = event.type === "withdraw" ? event.waiter : context.waiter;
      const ref = event.type === "deposit" ? event.ref : context.ref;
      waiter?.resolve(ref);
    },
    refuseWithdraw: ({ event }) => {
      if (event.type === "withdraw") {
        event.waiter.reject("gift-already-withdrawn");
      }
    },
    refuseDeposit: ({ event }) => {
      if (event.type === "deposit") {
        event.refuse?.("gift-already-deposited");
      }
    },
    breakWaiter: ({ context }, params: { failure: HandoffFailure }) =>
      context.waiter?.reject(params.failure),
    forget: assign({ ref: undefined, waiter: undefined }),
  },
  delays: {
    depositDeadline: ({ context }) => context.depositMs,
    withdrawDeadline: ({ context }) => context.withdrawMs,
  },
}).createMachine({
  id: "gift",
  initial: "idle",
  context: ({ input }) => ({
    ref: undefined,
    waiter: undefined,
    depositMs: input.depositMs,
    withdrawMs: input.withdrawMs,
  }),
  states: {
    idle: {
      on: {
        deposit: { target: "deposited", actions: "keepGift" },
        withdraw: { target: "awaitingDeposit", actions: "keepWaiter" },
        cancel: { target: "cancelled" },
      },
    },
    deposited: {
      after: { depositDeadline: { target: "expired" } },
      on: {
        withdraw: { target: "given", actions: "handOut" },
        deposit: { actions: "refuseDeposit" },
        cancel: { target: "cancelled" },
      },
    },
    awaitingDeposit: {
      after: {
        withdrawDeadline: {
          target: "expired",
          actions: {
            type: "breakWaiter",
            params: { failure: "gift-never-deposited" },
          },
        },
      },
      on: {
        deposit: { target: "given", actions: "handOut" },
        withdraw: { actions: "refuseWithdraw" },
        cancel: {
          target: "cancelled",
          actions: {
            type: "breakWaiter",
            params: { failure: "session-closed" },
          },
        },
      },
    },
    given: { type: "final", entry: ["forget", "retireGiftId", "release"] },
    expired: { type: "final", entry: ["forget", "release"] },
    cancelled: { type: "final", entry: ["forget", "release"] },
  },
});
