/**
 * Promises that take messages (the OCapN model's promise pipelining, done
 * locally). A promise made here keeps a record beside it: while unresolved,
 * messages to a local promise queue in order, and messages to a remote
 * promise go straight to its handler (which pipelines them over the wire).
 * Once resolved, messages go to whatever it resolved to, so resolving to
 * another promise forwards; once broken, they break with the same reason.
 * Plain JS promises work too, through `then`, without the forwarding.
 */
import { deliver, deliverOnly } from "./e.ts";
import type { RemoteHandler } from "./refs.ts";

export interface PromiseKit<T> {
  readonly promise: Promise<T>;
  /** First call wins; later calls are no-ops. */
  resolve(value: T | PromiseLike<T>): void;
  reject(reason: unknown): void;
}

interface QueuedMessage {
  readonly method: string | undefined;
  readonly args: unknown[];
  /** Absent for a send-only message. */
  readonly answer: PromiseWithResolvers<unknown> | undefined;
}

export interface PromiseRecord {
  /** Set for a remote promise: where messages go while it is unresolved. */
  readonly handler: RemoteHandler | undefined;
  state: "unresolved" | "resolved" | "broken";
  /** What it resolved to (maybe another promise), or why it broke. */
  settlement: unknown;
  queue: QueuedMessage[];
}

/**
 * Attaches a record to a promise as a private field (the base constructor
 * returns the promise, so the subclass's field lands on it). Why not a
 * WeakMap: V8's young-generation GC keeps a WeakMap's young keys alive until
 * the next full collection, so a promise per CapTP call made every call's
 * objects survive into the old generation and the scavenges grew costly.
 * A private field is invisible to other code, as the WeakMap entry was.
 */
class ReturnsTarget {
  constructor(target: object) {
    return target;
  }
}

class Recorded extends ReturnsTarget {
  #record: PromiseRecord;

  private constructor(promise: Promise<unknown>, record: PromiseRecord) {
    super(promise);
    this.#record = record;
  }

  static attach(promise: Promise<unknown>, record: PromiseRecord): void {
    new Recorded(promise, record);
  }

  static get(promise: object): PromiseRecord | undefined {
    return #record in promise ? (promise as Recorded).#record : undefined;
  }
}

const records = {
  get: (promise: Promise<unknown>) => Recorded.get(promise),
  has: (promise: Promise<unknown>) => Recorded.get(promise) !== undefined,
  set: (promise: Promise<unknown>, record: PromiseRecord) =>
    Recorded.attach(promise, record),
};

export function promiseRecord(
  promise: Promise<unknown>,
): PromiseRecord | undefined {
  return records.get(promise);
}

/**
 * Records that `promise` (already resolved natively to `target`) should
 * pass later messages straight to it, so a call whose answer is a remote
 * promise keeps pipelining.
 */
export function forwardTo(promise: Promise<unknown>, target: unknown): void {
  if (!records.has(promise)) {
    records.set(promise, {
      handler: undefined,
      state: "resolved",
      settlement: target,
      queue: [],
    });
  }
}

/** A local promise with its resolvers; messages to it queue until it settles. */
export function makePromiseKit<T>(): PromiseKit<T> {
  return makeKit<T>(undefined);
}

/**
 * A promise whose messages go to `handler` until it resolves (CapTP's
 * import promises and answers); resolve it when the peer reports.
 */
export function makeRemotePromise<T>(handler: RemoteHandler): PromiseKit<T> {
  return makeKit<T>(handler);
}

function makeKit<T>(handler: RemoteHandler | undefined): PromiseKit<T> {
  const native = Promise.withResolvers<T>();
  const record: PromiseRecord = {
    handler,
    state: "unresolved",
    settlement: undefined,
    queue: [],
  };
  records.set(native.promise, record);
  const reject = (reason: unknown): void => {
    if (record.state !== "unresolved") return;
    record.state = "broken";
    record.settlement = reason;
    native.reject(reason);
    flush(record, (m) => m.answer?.reject(reason));
  };
  const resolve = (value: T | PromiseLike<T>): void => {
    if (record.state !== "unresolved") return;
    if (value === native.promise) {
      return reject(new TypeError("A promise cannot resolve to itself"));
    }
    record.state = "resolved";
    record.settlement = value;
    native.resolve(value);
    flush(record, (m) => {
      if (m.answer) m.answer.resolve(deliver(value, m.method, m.args));
      else deliverOnly(value, m.method, m.args);
    });
  };
  return { promise: native.promise, resolve, reject };
}

function flush(record: PromiseRecord, fn: (m: QueuedMessage) => void): void {
  const queue = record.queue;
  record.queue = [];
  for (const message of queue) fn(message);
}

/** Queues a message on an unresolved local promise; returns its answer. */
export function enqueueOnPromise(
  record: PromiseRecord,
  method: string | undefined,
  args: unknown[],
  wantAnswer: boolean,
): Promise<unknown> | undefined {
  const answer = wantAnswer ? Promise.withResolvers<unknown>() : undefined;
  record.queue.push({ method, args, answer });
  return answer?.promise;
}
