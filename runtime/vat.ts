/**
 * A vat: an event loop with its own queue of turns (the OCapN model's unit
 * of isolation). Each delivered message is one turn, run to completion; the
 * queue is FIFO, so messages from one vat to one object arrive in the order
 * sent. Many vats share one process and reach each other only by eventual
 * send. A turn is the synchronous part of a method; an async method's later
 * steps run as ordinary promise reactions, and its answer waits for them.
 *
 * Turns are drained in microtasks, one batch (what was queued when the batch
 * started) per microtask, so a busy vat cannot starve the others.
 */
import { VatShutdownError } from "./errors.ts";
import { forwardTo, makePromiseKit, promiseRecord } from "./promise.ts";
import type { PromiseKit } from "./promise.ts";
import {
  type Behaviour,
  LocalReference,
  POST,
  POST_ONLY,
  type TurnQueue,
} from "./refs.ts";

export interface VatOptions {
  /** For messages and stats; defaults to "vat-<n>". */
  name?: string;
  /** Errors no promise can carry (a throwing send-only turn). */
  onError?: (error: unknown, info: { vat: string; method?: string }) => void;
}

export interface VatStats {
  name: string;
  /** Turns queued and not yet run. */
  queued: number;
  /** Turns run so far (including ones that threw). */
  delivered: number;
  /** Turns that threw. */
  errors: number;
  /** Answers waiting on a promise a turn returned. */
  awaiting: number;
  /** Unsettled kits from makePromiseKit(). */
  promises: number;
  shutdown: boolean;
}

/** One queued message; it carries its own answer unless send-only. */
class Turn {
  declare resolve: (value: unknown) => void;
  declare reject: (reason: unknown) => void;
  readonly promise: Promise<unknown> | undefined;

  constructor(
    readonly ref: LocalReference,
    readonly method: string | undefined,
    readonly args: unknown[],
    wantAnswer: boolean,
  ) {
    this.promise = wantAnswer
      ? new Promise((resolve, reject) => {
        this.resolve = resolve;
        this.reject = reject;
      })
      : undefined;
  }
}

type Answer = Pick<Turn, "promise" | "resolve" | "reject">;

let vatCount = 0;

/**
 * Drains are chained on this: a reaction is a job V8 queues by itself,
 * where queueMicrotask is a call out to the host.
 */
const resolved = Promise.resolve();

export class Vat implements TurnQueue {
  readonly name: string;
  /**
   * Turns queued are `#queue[#head, #tail)`. The array is kept across
   * batches (its slots cleared), not truncated: truncating and pushing again
   * regrew its storage for every message.
   */
  #queue: (Turn | undefined)[] = [];
  #head = 0;
  #tail = 0;
  #scheduled = false;
  #delivered = 0;
  #errors = 0;
  #awaiting = new Set<Answer>();
  #kits = new Set<PromiseKit<unknown>>();
  #idle: (() => void)[] = [];
  #dead: VatShutdownError | undefined;
  #onError: NonNullable<VatOptions["onError"]>;

  constructor(options: VatOptions = {}) {
    this.name = options.name ?? `vat-${++vatCount}`;
    this.#onError = options.onError ?? ((error, info) => {
      console.error(
        `Vat "${info.vat}" send-only "${info.method}" threw`,
        error,
      );
    });
  }

  /**
   * Makes a reference to `behaviour`, owned by this vat: a methods object
   * (`E(ref).method(...)`) or a function (`E(ref)(...)`). `iface` names it
   * in messages, like Endo's Far().
   */
  makeFar(iface: string, behaviour: Behaviour): LocalReference {
    const ok = typeof behaviour === "function" ||
      (typeof behaviour === "object" && behaviour !== null);
    if (!ok) {
      throw new TypeError(
        `Behaviour must be an object or a function, got "${String(behaviour)}"`,
      );
    }
    return new LocalReference(this, iface, behaviour);
  }

  /** A promise kit whose promise breaks if this vat shuts down first. */
  makePromiseKit<T>(): PromiseKit<T> {
    const kit = makePromiseKit<T>();
    if (this.#dead) {
      kit.promise.catch(ignore);
      kit.reject(this.#dead);
      return kit;
    }
    const entry = kit as PromiseKit<unknown>;
    this.#kits.add(entry);
    const done = () => this.#kits.delete(entry);
    return {
      promise: kit.promise,
      resolve: (value) => {
        done();
        kit.resolve(value);
      },
      reject: (reason) => {
        done();
        kit.reject(reason);
      },
    };
  }

  /** Resolves once the queue is empty (at once if it already is). */
  whenIdle(): Promise<void> {
    if (this.#head === this.#tail && !this.#scheduled) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stats(): VatStats {
    return {
      name: this.name,
      queued: this.#tail - this.#head,
      delivered: this.#delivered,
      errors: this.#errors,
      awaiting: this.#awaiting.size,
      promises: this.#kits.size,
      shutdown: this.#dead !== undefined,
    };
  }

  get isShutdown(): boolean {
    return this.#dead !== undefined;
  }

  /**
   * Breaks every queued answer, awaited answer and kit with a
   * VatShutdownError, and makes later sends reject at once. Idempotent.
   * These breakages are marked handled: shutdown is their expected outcome.
   */
  shutdown(reason: unknown = "shutdown requested"): void {
    if (this.#dead) return;
    const error = new VatShutdownError(this.name, reason);
    this.#dead = error;
    const queued = this.#queue;
    const head = this.#head;
    const tail = this.#tail;
    this.#queue = [];
    this.#head = this.#tail = 0;
    for (let i = head; i < tail; i++) {
      breakWith(queued[i], error);
    }
    for (const answer of this.#awaiting) breakWith(answer, error);
    this.#awaiting.clear();
    for (const kit of this.#kits) {
      kit.promise.catch(ignore);
      kit.reject(error);
    }
    this.#kits.clear();
    this.#settleIdle();
  }

  [POST](
    ref: LocalReference,
    method: string | undefined,
    args: unknown[],
  ): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const turn = new Turn(ref, method, args, true);
    this.#push(turn);
    return turn.promise!;
  }

  [POST_ONLY](
    ref: LocalReference,
    method: string | undefined,
    args: unknown[],
  ): void {
    if (!this.#dead) this.#push(new Turn(ref, method, args, false));
  }

  #push(turn: Turn): void {
    this.#queue[this.#tail++] = turn;
    if (!this.#scheduled) {
      this.#scheduled = true;
      resolved.then(this.#drain);
    }
  }

  #drain = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    const end = this.#tail;
    while (this.#head < end && queue === this.#queue) {
      const turn = queue[this.#head]!;
      queue[this.#head++] = undefined;
      this.#run(turn);
    }
    if (queue !== this.#queue) return; // shut down during the batch
    if (this.#head < this.#tail) {
      this.#scheduled = true;
      resolved.then(this.#drain);
    } else {
      // A burst's long array is dropped rather than kept for good.
      if (queue.length > 1024) this.#queue = [];
      this.#head = this.#tail = 0;
      this.#settleIdle();
    }
  };

  #run(turn: Turn): void {
    const behaviour = LocalReference.behaviour(turn.ref);
    const { method, args } = turn;
    const answer = turn.promise === undefined ? undefined : turn;
    let result: unknown;
    this.#delivered++;
    try {
      if (method === undefined) {
        if (typeof behaviour !== "function") throw notCallable(turn.ref);
        result = behaviour(...(args as never[]));
      } else {
        const fn = (behaviour as Record<string, unknown>)[method];
        if (typeof fn !== "function" || BUILTINS.has(fn)) {
          throw noMethod(turn.ref, method);
        }
        result = fn.apply(behaviour, args);
      }
    } catch (error) {
      this.#errors++;
      if (answer) answer.reject(error);
      else this.#onError(error, { vat: this.name, method });
      return;
    }
    if (answer === undefined) {
      if (result instanceof Promise) {
        result.catch((error) =>
          this.#onError(error, { vat: this.name, method })
        );
      }
    } else if (result instanceof Promise) {
      this.#await(answer, result);
    } else {
      answer.resolve(result);
    }
  }

  /** Holds the answer until `result` settles, so shutdown can still break it. */
  #await(answer: Answer, result: Promise<unknown>) {
    // A returned remote or kit promise keeps taking messages (pipelining).
    if (promiseRecord(result)) forwardTo(answer.promise!, result);
    this.#awaiting.add(answer);
    result.then(
      (value) => {
        if (this.#awaiting.delete(answer)) answer.resolve(value);
      },
      (reason) => {
        if (this.#awaiting.delete(answer)) answer.reject(reason);
      },
    );
  }

  #settleIdle(): void {
    const waiters = this.#idle;
    this.#idle = [];
    for (const resolve of waiters) resolve();
  }
}

function breakWith(answer: Answer | undefined, error: Error): void {
  if (answer?.promise === undefined) return;
  answer.promise.catch(ignore);
  answer.reject(error);
}

function notCallable(ref: LocalReference): TypeError {
  return new TypeError(
    `Reference "${LocalReference.iface(ref)}" is not callable`,
  );
}

function noMethod(ref: LocalReference, method: string): TypeError {
  return new TypeError(
    `Method "${method}" not found on "${LocalReference.iface(ref)}"`,
  );
}

/** Object and Function prototype methods are not part of any behaviour. */
const BUILTINS = new Set<unknown>(
  [Object.prototype, Function.prototype].flatMap((proto) =>
    Object.getOwnPropertyNames(proto).map((name) =>
      Object.getOwnPropertyDescriptor(proto, name)!.value
    ).filter((value) => typeof value === "function")
  ),
);

function ignore(): void {}
