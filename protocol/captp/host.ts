/**
 * What the session engine needs from the vat it serves (CapTP draft,
 * "Delivering messages"; STYLE.md "Layers"). protocol/ never sees the vat
 * runtime: runtime/captp_host.ts implements this with real references and
 * the tests implement it with a few lines of plain JS.
 */

/**
 * Where messages to a remote presence or remote promise go; the engine makes
 * one per import and per question. `target` is the presence or promise.
 * runtime/refs.ts's `RemoteHandler` extends it, so the adapter is a
 * pass-through.
 */
export interface RemoteHandler {
  applyMethod(
    target: object,
    method: string | undefined,
    args: unknown[],
  ): Promise<unknown>;
  sendOnly(target: object, method: string | undefined, args: unknown[]): void;
}

/** A promise the engine settles, and its controls. */
export interface RemotePromiseKit {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export interface CapTPHost {
  /**
   * Deliver an op:deliver's arguments, as received, to a local reference
   * or local promise in a later turn; the answer. The host decides whether
   * a leading selector names a method or is the first argument of a call.
   */
  deliver(target: unknown, args: unknown[]): Promise<unknown>;
  /** Same, with no answer wanted (op:deliver with `false false`). */
  deliverOnly(target: unknown, args: unknown[]): void;
  /** A local stand-in for the peer's object (`desc:import-object`). */
  makeRemotePresence(handler: RemoteHandler): object;
  /** A promise whose messages go to `handler` until the engine settles it. */
  makeRemotePromise(handler: RemoteHandler): RemotePromiseKit;
  /**
   * What a value the engine is asked to pass is: one of our references
   * (exported as desc:import-object), one of our promises (exported as
   * desc:import-promise), or neither (the engine refuses to pass it).
   */
  classify(value: object): "reference" | "promise" | undefined;
  /**
   * The handler given to makeRemotePresence / makeRemotePromise for
   * `value`, if it is such a presence or promise.
   * Optional: without it the engine keeps its own WeakMap.
   */
  handlerOf?(value: object): RemoteHandler | undefined;
}

/**
 * Tells the engine when a presence it handed out is garbage, so it can send
 * op:gc-exports. Injected so tests decide when "collection" happens.
 */
export interface Finalizer {
  /** Starts watching `target`; `onCollect(token)` runs once after it dies. */
  track(target: object, token: object): { deref(): object | undefined };
}

export type FinalizerFactory = (
  onCollect: (token: object) => void,
) => Finalizer;

/** The default: FinalizationRegistry and WeakRef (ECMAScript, no host API). */
export const weakFinalizer: FinalizerFactory = (onCollect) => {
  const registry = new FinalizationRegistry<object>(onCollect);
  return {
    track(target, token) {
      registry.register(target, token);
      return new WeakRef(target);
    },
  };
};
