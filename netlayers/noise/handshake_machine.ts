/**
 * The lifecycle of one Noise handshake on one connection (either role), as
 * an xstate v5 machine. The cryptography lives in peer_handshake.ts; this
 * file decides what may happen when, and for how long.
 *
 * States:
 *   idle          nothing sent or received yet
 *   initiating    (initiator) initiation sent; waiting for message 2 or a
 *                 cookie reply, which makes us resend with mac2
 *   awaitingFinal (XX responder) message 2 sent; waiting for message 3
 *   established   final for the handshake: a NoiseTransport exists
 *   failed        bad bytes, wrong identity, or the timeout fired
 *   closed        CLOSE before or after establishment
 * Events: DIAL, INITIATION { message }, MESSAGE { message },
 *   COOKIE { reply }, CLOSE; delay `handshakeTimeout`.
 * Each message is processed by the action of the transition it triggers,
 *   which targets where success leads (an initiation's pattern byte picks
 *   established or awaitingFinal); every state a message can lead to moves
 *   on to failed at once, by an eventless transition, if the work failed.
 *   The success path is thus one step per message, which matters: a
 *   session runs this machine twice, and each xstate step costs as much as
 *   a few hashes.
 * Invariants: every path ends in exactly one of established, failed or
 *   closed; failed and closed zero every key the handshake held (and the
 *   transport's, if one was made); at most one transport is ever made; no
 *   bad message throws out of the actor: it becomes `failed` with the error,
 *   which is handed to the input's `onFailed` exactly once, on entry.
 */
import { assign, setup } from "xstate";
import type { CryptoProvider } from "../../protocol/crypto.ts";
import type { CookieInitiator } from "./cookie.ts";
import { NoiseError } from "./errors.ts";
import {
  type Established,
  type InitiatorOptions,
  KIND_IK,
  type PeerHandshakeOptions,
  PeerInitiator,
  PeerResponder,
} from "./peer_handshake.ts";

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

export interface HandshakeMachineInput {
  readonly crypto: CryptoProvider;
  /** Initiator options (with `remoteIdentity` for IK) or responder options. */
  readonly role:
    | { readonly initiator: true; readonly options: InitiatorOptions }
    | { readonly initiator: false; readonly options: PeerHandshakeOptions };
  /** Where outgoing handshake bytes go. */
  readonly send: (bytes: Uint8Array) => void;
  /** Stamps initiations with mac1/mac2 (initiator only). */
  readonly cookie?: CookieInitiator;
  readonly timeoutMs?: number;
  /**
   * Called once, as `failed` is entered, with the reason. The owner learns
   * of a failure (a timeout included) this way rather than by observing
   * every snapshot. It runs inside the transition; it need not stop the
   * machine (a final state stops it), and an event it sends is ignored.
   */
  readonly onFailed?: (error: Error) => void;
}

interface Context {
  readonly input: HandshakeMachineInput;
  initiator?: PeerInitiator;
  responder?: PeerResponder;
  initiation?: Uint8Array;
  established?: Established;
  error?: Error;
}

type Event =
  | { type: "DIAL" }
  | { type: "INITIATION"; message: Uint8Array }
  | { type: "MESSAGE"; message: Uint8Array }
  | { type: "COOKIE"; reply: Uint8Array }
  | { type: "CLOSE" };

function attempt(_context: Context, step: () => Partial<Context>) {
  try {
    return step();
  } catch (error) {
    // peer_handshake.ts has already zeroed the handshake's keys.
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
}

function stamp(context: Context, message: Uint8Array): Uint8Array {
  return context.input.cookie?.stamp(message) ?? message;
}

export const handshakeMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Event,
    input: {} as HandshakeMachineInput,
  },
  guards: {
    isInitiator: ({ context }) => context.input.role.initiator,
    failed: ({ context }) => context.error !== undefined,
    /** IK establishes on the initiation; anything else waits for message 3. */
    ikInitiation: ({ event }) =>
      event.type === "INITIATION" && event.message[0] === KIND_IK,
  },
  actions: {
    startInitiation: assign(({ context }) =>
      attempt(context, () => {
        const role = context.input.role;
        if (!role.initiator) throw new TypeError("A responder cannot dial");
        const initiator = new PeerInitiator(context.input.crypto, role.options);
        const initiation = initiator.start();
        context.input.send(stamp(context, initiation));
        return { initiator, initiation };
      })
    ),
    resendWithCookie: ({ context, event }) => {
      if (event.type !== "COOKIE" || !context.initiation) return;
      // A reply that does not open is ignored: anyone can send one.
      if (context.input.cookie?.receiveReply(event.reply)) {
        context.input.send(stamp(context, context.initiation));
      }
    },
    respondToInitiation: assign(({ context, event }) =>
      attempt(context, () => {
        const role = context.input.role;
        if (role.initiator || event.type !== "INITIATION") {
          throw new NoiseError("unexpected-message", "Not a responder");
        }
        const responder = new PeerResponder(context.input.crypto, role.options);
        const { reply, established } = responder.receive(event.message);
        context.input.send(reply);
        return { responder, established };
      })
    ),
    readReply: assign(({ context, event }) =>
      attempt(context, () => {
        if (event.type !== "MESSAGE") return {};
        const { reply, established } = context.initiator!.receive(
          event.message,
        );
        if (reply) context.input.send(reply);
        return { established };
      })
    ),
    readFinal: assign(({ context, event }) =>
      attempt(context, () => {
        if (event.type !== "MESSAGE") return {};
        return { established: context.responder!.finish(event.message) };
      })
    ),
    recordTimeout: assign(() => ({
      error: new NoiseError("timeout", "Noise handshake timed out"),
    })),
    zeroKeys: ({ context }) => {
      context.initiator?.destroy();
      context.responder?.destroy();
      context.established?.transport.close();
    },
    reportFailure: ({ context }) => context.input.onFailed?.(context.error!),
  },
  delays: {
    handshakeTimeout: ({ context }) =>
      context.input.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  },
}).createMachine({
  id: "noiseHandshake",
  context: ({ input }) => ({ input }),
  initial: "idle",
  on: { CLOSE: ".closed" },
  states: {
    idle: {
      on: {
        DIAL: {
          guard: "isInitiator",
          target: "initiating",
          actions: "startInitiation",
        },
        INITIATION: [
          {
            guard: "ikInitiation",
            target: "established",
            actions: "respondToInitiation",
          },
          { target: "awaitingFinal", actions: "respondToInitiation" },
        ],
      },
    },
    initiating: {
      always: { guard: "failed", target: "failed" },
      after: {
        handshakeTimeout: { target: "failed", actions: "recordTimeout" },
      },
      on: {
        COOKIE: { actions: "resendWithCookie" },
        MESSAGE: { target: "established", actions: "readReply" },
      },
    },
    awaitingFinal: {
      always: { guard: "failed", target: "failed" },
      after: {
        handshakeTimeout: { target: "failed", actions: "recordTimeout" },
      },
      on: { MESSAGE: { target: "established", actions: "readFinal" } },
    },
    established: {
      always: { guard: "failed", target: "failed" },
      on: { CLOSE: "closed" },
    },
    failed: { type: "final", entry: ["zeroKeys", "reportFailure"] },
    closed: { type: "final", entry: "zeroKeys" },
  },
});
