/**
 * The vat runtime as the CapTP engine's host (protocol/captp/host.ts).
 *
 * Why it exists: protocol/ never imports runtime/, so the engine asks
 * through `CapTPHost` and this adapter answers with real references. The one
 * decision made here is how an op:deliver's argument list reaches an object:
 * when the target is a methods object and the first argument is a selector
 * (a symbol), that selector names the method; otherwise the whole list is
 * the arguments of a call (the suite's greeter and car factory are called
 * with no selector).
 */
import type {
  CapTPHost,
  RemoteHandler,
  RemotePromiseKit,
} from "../protocol/captp/host.ts";
import { deliver, deliverOnly } from "./e.ts";
import { makeRemotePromise, promiseRecord } from "./promise.ts";
import { LocalReference, makeRemotePresence, RemotePresence } from "./refs.ts";

/**
 * Method names by selector: Symbol.keyFor is a call into the engine's C++,
 * and a session sends the same few selectors over and over. Bounded, as a
 * peer picks the selectors.
 */
const methodNames = new Map<symbol, string | undefined>();

function methodName(selector: symbol): string | undefined {
  let name = methodNames.get(selector);
  if (name === undefined && !methodNames.has(selector)) {
    name = Symbol.keyFor(selector);
    if (methodNames.size >= 4096) methodNames.clear();
    methodNames.set(selector, name);
  }
  return name;
}

/** Splits wire arguments into (method, args) for `target`. */
function dispatch(
  target: unknown,
  args: unknown[],
): [string | undefined, unknown[]] {
  if (
    LocalReference.is(target) &&
    typeof LocalReference.behaviour(target) !== "function" &&
    typeof args[0] === "symbol"
  ) {
    const name = methodName(args[0]);
    if (name !== undefined) return [name, args.slice(1)];
  }
  return [undefined, args];
}

/** classify()'s "local-promise", without building its answer per message. */
function isLocalPromise(target: unknown): target is Promise<unknown> {
  return target instanceof Promise &&
    promiseRecord(target)?.handler === undefined;
}

/**
 * Sends wire arguments to `target`. A local promise is waited for, so the
 * method-or-call choice is made against what it becomes; a remote promise
 * takes the arguments as they are, which keeps pipelining through it.
 */
function send(target: unknown, args: unknown[]): Promise<unknown> {
  if (isLocalPromise(target)) {
    return (target as Promise<unknown>).then((resolved) =>
      send(resolved, args)
    );
  }
  const [method, rest] = dispatch(target, args);
  return deliver(target, method, rest);
}

export const captpHost: CapTPHost = {
  deliver: send,
  deliverOnly(target, args) {
    if (isLocalPromise(target)) {
      (target as Promise<unknown>).then(
        (resolved) => captpHost.deliverOnly(resolved, args),
        () => {},
      );
      return;
    }
    const [method, rest] = dispatch(target, args);
    deliverOnly(target, method, rest);
  },
  makeRemotePresence(handler: RemoteHandler): object {
    return makeRemotePresence(handler);
  },
  makeRemotePromise(handler: RemoteHandler): RemotePromiseKit {
    return makeRemotePromise(handler);
  },
  classify(value) {
    if (LocalReference.is(value)) return "reference";
    if (value instanceof Promise) return "promise";
    return undefined;
  },
  handlerOf(value) {
    if (RemotePresence.is(value)) return RemotePresence.handler(value);
    return value instanceof Promise ? promiseRecord(value)?.handler : undefined;
  },
};
