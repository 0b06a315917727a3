/**
 * Runs one xstate v5 machine for one lifecycle (a CapTP session, a Noise
 * handshake) without an xstate actor. Sessions are made by the thousand per
 * second, and an actor per lifecycle (its system, mailbox, scheduler and
 * observers) cost about 30 µs each in the establishment bench
 * (bench/session_script.ts). The machine is the same: this starts it with
 * `getInitialSnapshot(scope, input)` and feeds it events through
 * `transition(snapshot, event, scope)`, the ActorLogic interface xstate's
 * own actors call, with a scope of ours.
 *
 * Timers: a machine's `after` (a named delay, resolved by xstate) becomes a
 * delayed raise, which xstate hands to the scope's scheduler; here that is
 * the Clock given, and a fired timer sends the raised event back in. Leaving
 * the state cancels it, as does reaching a final state or `stop()`.
 *
 * Semantics kept from an actor:
 *   - actions run in order inside the transition, deferred work (scheduling)
 *     right after it;
 *   - an event sent from inside an action waits in a mailbox until the
 *     transition in progress is done, then runs in order;
 *   - `observe` sees every snapshot, once per processed event;
 *   - events to a machine that is no longer active are ignored.
 * An action that throws leaves the snapshot as it was, drops the events
 * queued behind it, and the error goes to the sender (an actor would stop
 * and rethrow it later, from a timer).
 *
 * Depends on the shape of xstate's ActorScope and scheduler (5.33.3, pinned
 * in package.json); tests/protocol/machine_driver_test.ts checks a driver
 * against an actor of the same machine.
 */
import type {
  ActorScope,
  AnyStateMachine,
  EventFromLogic,
  InputFrom,
} from "xstate";
import type { Clock } from "./clock.ts";

type SnapshotOf<M extends AnyStateMachine> = ReturnType<M["transition"]>;
type Scope<M extends AnyStateMachine> = ActorScope<
  SnapshotOf<M>,
  EventFromLogic<M>
>;
type Executable = {
  exec?: (info: unknown, params: unknown) => void;
  info: unknown;
  params: unknown;
};

/**
 * The part of an actor system the machine's built-in actions reach: the
 * scheduler of delayed raises (keyed by their source, a MachineDriver) and
 * the inspection hook, unused. Shared by every driver.
 */
const system = {
  scheduler: {
    schedule(
      source: MachineDriver<AnyStateMachine>,
      _target: unknown,
      event: unknown,
      delay: number,
      id: string,
    ): void {
      source.schedule(id, event, delay);
    },
    cancel(source: MachineDriver<AnyStateMachine>, id: string): void {
      source.cancel(id);
    },
  },
  _sendInspectionEvent(): void {},
};

export interface MachineDriverOptions<M extends AnyStateMachine> {
  clock: Clock;
  /** Called with every new snapshot, after its event's deferred work. */
  observe?(snapshot: SnapshotOf<M>): void;
}

export class MachineDriver<M extends AnyStateMachine> {
  /** The ActorRef fields xstate may read from `self`. */
  readonly id: string;
  readonly sessionId = "";
  readonly #machine: M;
  readonly #clock: Clock;
  readonly #observe: ((snapshot: SnapshotOf<M>) => void) | undefined;
  readonly #scope: Scope<M>;
  #snapshot: SnapshotOf<M>;
  #deferred: (() => void)[] = [];
  /** Events sent while a transition runs, in order; undefined when idle. */
  #mailbox: EventFromLogic<M>[] | undefined;
  /** Pending delayed events by xstate's id: their cancels. */
  #timers = new Map<string, () => void>();
  #stopped = false;

  constructor(
    machine: M,
    input: InputFrom<M>,
    options: MachineDriverOptions<M>,
  ) {
    this.#machine = machine;
    this.id = machine.id;
    this.#clock = options.clock;
    this.#observe = options.observe;
    this.#scope = {
      self: this,
      id: this.id,
      sessionId: "",
      logger: () => {},
      defer: (fn: () => void) => this.#deferred.push(fn),
      emit: () => {},
      system,
      stopChild: () => {},
      actionExecutor: (action: Executable) =>
        action.exec?.(action.info, action.params),
    } as unknown as Scope<M>;
    const mailbox: EventFromLogic<M>[] = this.#mailbox = [];
    try {
      this.#snapshot = machine.getInitialSnapshot(
        this.#scope,
        input,
      ) as SnapshotOf<M>;
      this.#settle();
      for (let i = 0; i < mailbox.length; i++) this.#step(mailbox[i]);
    } finally {
      this.#mailbox = undefined;
    }
  }

  getSnapshot(): SnapshotOf<M> {
    return this.#snapshot;
  }

  /** Feeds one event through the machine; ignored once it has stopped. */
  send(event: EventFromLogic<M>): void {
    if (this.#mailbox !== undefined) {
      this.#mailbox.push(event);
      return;
    }
    const mailbox = this.#mailbox = [event];
    try {
      for (let i = 0; i < mailbox.length; i++) this.#step(mailbox[i]);
    } finally {
      this.#mailbox = undefined;
    }
  }

  /** Cancels every pending timer; later events are ignored. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  /** @internal the scheduler's: arms a delayed event on the Clock. */
  schedule(id: string, event: EventFromLogic<M>, delay: number): void {
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

  #step(event: EventFromLogic<M>): void {
    if (this.#stopped || this.#snapshot.status !== "active") return;
    try {
      this.#snapshot = this.#machine.transition(
        this.#snapshot,
        event,
        this.#scope,
      ) as SnapshotOf<M>;
    } catch (error) {
      this.#deferred = []; // the failed transition's, never to run
      throw error;
    }
    this.#settle();
  }

  /** After a transition: deferred work, the observer; a final state stops. */
  #settle(): void {
    const deferred = this.#deferred;
    if (deferred.length > 0) {
      this.#deferred = [];
      for (const fn of deferred) fn();
    }
    this.#observe?.(this.#snapshot);
    if (this.#snapshot.status !== "active") this.stop();
  }
}
