/**
 * Runs the handshake lifecycle of netlayers/noise/handshake_machine.ts for
 * one connection without an xstate actor. A session makes two handshakes
 * (one per side), and an actor per handshake (its system, mailbox,
 * scheduler and observers, built per connection) cost tens of microseconds
 * per session in the establishment bench (bench/session_script.ts). The
 * machine is the same: this starts it with `resolveState` at its initial
 * state and feeds it events through `transition(snapshot, event, scope)`,
 * the ActorLogic interface xstate's own actors call, with a scope of ours.
 *
 * Timers: the machine's `after` (its named `handshakeTimeout` delay, resolved
 * by xstate) becomes a delayed raise, which xstate hands to the scope's
 * scheduler; here that is the Clock given, and a fired timer sends the
 * raised event back in. Leaving the state cancels it, as does reaching a
 * final state or `stop()`.
 *
 * Semantics kept from an actor: actions run in order inside the transition,
 * deferred work (scheduling) right after it; events to a machine that is
 * no longer active are ignored.
 */
import type { ActorScope, EventFromLogic } from "xstate";
import type { Clock } from "../../protocol/clock.ts";
import {
  handshakeMachine,
  type HandshakeMachineInput,
  initialContext,
} from "./handshake_machine.ts";

type Machine = typeof handshakeMachine;
const INITIAL_STATE = handshakeMachine.config.initial as string;
type Snapshot = ReturnType<Machine["transition"]>;
type Event = EventFromLogic<Machine>;
type Executable = Parameters<ActorScope<Snapshot, Event>["actionExecutor"]>[0];

/**
 * The part of an actor system the machine's built-in actions reach: the
 * scheduler of delayed raises (keyed by their source, a HandshakeDriver)
 * and the inspection hook, unused. Shared by every driver.
 */
const system = {
  scheduler: {
    schedule(
      source: HandshakeDriver,
      _target: unknown,
      event: Event,
      delay: number,
      id: string,
    ): void {
      source.schedule(id, event, delay);
    },
    cancel(source: HandshakeDriver, id: string): void {
      source.cancel(id);
    },
  },
  _sendInspectionEvent(): void {},
} as unknown as ActorScope<Snapshot, Event>["system"];

export class HandshakeDriver {
  /** The ActorRef fields xstate may read from `self`. */
  readonly id = "noiseHandshake";
  readonly sessionId = "";
  readonly #clock: Clock;
  readonly #scope: ActorScope<Snapshot, Event>;
  #snapshot: Snapshot;
  #deferred: (() => void)[] = [];
  /** Pending delayed events by xstate's id: their cancels. */
  #timers = new Map<string, () => void>();
  #stopped = false;

  constructor(input: HandshakeMachineInput, clock: Clock) {
    this.#clock = clock;
    this.#scope = {
      self: this as unknown as ActorScope<Snapshot, Event>["self"],
      id: this.id,
      sessionId: "",
      logger: () => {},
      defer: (fn) => this.#deferred.push(fn),
      emit: () => {},
      system,
      stopChild: () => {},
      actionExecutor: (action: Executable) =>
        action.exec?.(action.info, action.params),
    };
    // The initial state has no entry actions and no eventless or delayed
    // transitions, so resolving it is xstate's initial transition without
    // the macrostep (tests/netlayers/noise/handshake_driver_test.ts).
    this.#snapshot = handshakeMachine.resolveState({
      value: INITIAL_STATE,
      context: initialContext(input),
    });
  }

  getSnapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Feeds one event through the machine; ignored once it has stopped. */
  send(event: Event): void {
    if (this.#stopped || this.#snapshot.status !== "active") return;
    this.#snapshot = handshakeMachine.transition(
      this.#snapshot,
      event,
      this.#scope,
    );
    this.#settle();
  }

  /** Cancels every pending timer; later events are ignored. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  /** @internal the scheduler's: arms a delayed event on the Clock. */
  schedule(id: string, event: Event, delay: number): void {
    if (this.#stopped) return;
    this.#timers.get(id)?.();
    this.#timers.set(
      id,
      this.#clock.schedule(this.#clock.now() + delay, () => {
        this.#timers.delete(id);
        this.send(event);
      }),
    );
  }

  /** @internal the scheduler's: drops a delayed event not yet delivered. */
  cancel(id: string): void {
    const cancel = this.#timers.get(id);
    if (cancel === undefined) return;
    this.#timers.delete(id);
    cancel();
  }

  /** After a transition: the deferred work, then a final state stops us. */
  #settle(): void {
    const deferred = this.#deferred;
    if (deferred.length > 0) {
      this.#deferred = [];
      for (const fn of deferred) fn();
    }
    if (this.#snapshot.status !== "active") this.stop();
  }
}
