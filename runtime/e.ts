/**
 * Eventual send (the OCapN model's "<-"): `E(ref).method(...args)` and, for a
 * callable reference, `E(ref)(...args)`. Every form returns a promise and
 * runs nothing synchronously; `E.sendOnly` returns nothing and asks for no
 * answer. All of them funnel into `deliver(target, method, args)`, the one
 * dispatch CapTP also calls for an incoming op:deliver, so a local
 * reference, a local promise and a remote one behave the same.
 */
// E()'s untyped form answers `any`, as a dynamic send must.
// deno-lint-ignore-file no-explicit-any
import { LocalReference, POST, POST_ONLY, RemotePresence } from "./refs.ts";
import type { RemoteHandler } from "./refs.ts";
import { enqueueOnPromise, promiseRecord } from "./promise.ts";
import type { Vat } from "./vat.ts";

/** Sends `method` (undefined: call the reference itself) to `target`. */
export function deliver(
  target: unknown,
  method: string | undefined,
  args: unknown[],
): Promise<unknown> {
  if (LocalReference.is(target)) {
    return LocalReference.vat(target)[POST](target, method, args);
  }
  if (RemotePresence.is(target)) {
    return applyRemote(RemotePresence.handler(target), target, method, args);
  }
  if (target instanceof Promise) {
    const record = promiseRecord(target);
    if (record === undefined) {
      return target.then((value) => deliver(value, method, args));
    }
    switch (record.state) {
      case "resolved":
        return deliver(record.settlement, method, args);
      case "broken":
        return Promise.reject(record.settlement);
    }
    if (record.handler) {
      return applyRemote(record.handler, target, method, args);
    }
    return enqueueOnPromise(record, method, args, true)!;
  }
  return Promise.reject(notAReference(target, method));
}

/** Like deliver() with no answer; failures go nowhere (or to onError). */
export function deliverOnly(
  target: unknown,
  method: string | undefined,
  args: unknown[],
): void {
  if (LocalReference.is(target)) {
    return LocalReference.vat(target)[POST_ONLY](target, method, args);
  }
  if (RemotePresence.is(target)) {
    return RemotePresence.handler(target).sendOnly(target, method, args);
  }
  if (target instanceof Promise) {
    const record = promiseRecord(target);
    if (record === undefined) {
      target.then((value) => deliverOnly(value, method, args), ignore);
    } else if (record.state === "resolved") {
      deliverOnly(record.settlement, method, args);
    } else if (record.state === "unresolved") {
      if (record.handler) record.handler.sendOnly(target, method, args);
      else enqueueOnPromise(record, method, args, false);
    }
  }
}

/** Reads `field` eventually: through the handler when remote, else locally. */
export function deliverGet(target: unknown, field: string): Promise<unknown> {
  const handler = RemotePresence.is(target)
    ? RemotePresence.handler(target)
    : target instanceof Promise &&
        promiseRecord(target)?.state === "unresolved"
    ? promiseRecord(target)!.handler
    : undefined;
  if (handler) {
    if (!handler.get) {
      return Promise.reject(
        new TypeError(`Remote get of "${field}" is not supported`),
      );
    }
    try {
      return handler.get(target as object, field);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return Promise.resolve(target).then((value) => {
    if (LocalReference.is(value) || RemotePresence.is(value)) {
      throw new TypeError(`Cannot get "${field}" of a reference`);
    }
    return (value as Record<string, unknown> | null | undefined)?.[field];
  });
}

function applyRemote(
  handler: RemoteHandler,
  target: object,
  method: string | undefined,
  args: unknown[],
): Promise<unknown> {
  try {
    return handler.applyMethod(target, method, args);
  } catch (error) {
    return Promise.reject(error);
  }
}

function notAReference(target: unknown, method: string | undefined): TypeError {
  const what = method === undefined ? "a call" : `"${method}"`;
  return new TypeError(
    `Cannot send ${what} to a non-reference "${String(target)}"`,
  );
}

function ignore(): void {}

/** E(x) with no behaviour type: any method, any call, answers of any type. */
export type ELoose =
  & { readonly [method: string]: (...args: any[]) => Promise<any> }
  & ((...args: any[]) => Promise<any>);

/** What E(x) returns: every method is an eventual send. */
export type ESend<T> = 0 extends (1 & T) ? ELoose : ESendTyped<T>;

type ESendTyped<T> =
  & {
    readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
  }
  & (T extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : unknown);

type ESendOnlyLoose =
  & { readonly [method: string]: (...args: any[]) => void }
  & ((...args: any[]) => void);

export type ESendOnly<T> = 0 extends (1 & T) ? ESendOnlyLoose
  : ESendOnlyTyped<T>;

type ESendOnlyTyped<T> =
  & {
    readonly [K in keyof T]: T[K] extends (...args: infer A) => unknown
      ? (...args: A) => void
      : never;
  }
  & (T extends (...args: infer A) => unknown ? (...args: A) => void : unknown);

/** Methods are any string but "then", so an E() proxy is never awaited by mistake. */
function makeProxy(
  send: (method: string | undefined, args: unknown[]) => unknown,
): unknown {
  return new Proxy(function () {}, {
    get: (_, prop) =>
      typeof prop === "string" && prop !== "then"
        ? (...args: unknown[]) => send(prop, args)
        : undefined,
    apply: (_, __, args) => send(undefined, args),
    // Inherited by localSender()'s frozen object; never a real target.
    set: () => false,
  });
}

/**
 * For a local reference, E() answers a plain object (a function, when the
 * behaviour is callable) with one own sender per method known now, and the
 * catch-all proxy as its prototype for any other name: a proxy trap per send
 * would cost more than the send.
 */
function localSender(ref: LocalReference): unknown {
  const vat = LocalReference.vat(ref);
  const behaviour = LocalReference.behaviour(ref);
  const fallback = makeProxy((method, args) => deliver(ref, method, args));
  const sender = typeof behaviour === "function"
    ? (...args: unknown[]) => vat[POST](ref, undefined, args)
    : {};
  Object.setPrototypeOf(sender, fallback as object);
  for (const name of methodNames(behaviour)) {
    Object.defineProperty(sender, name, {
      value: (...args: unknown[]) => vat[POST](ref, name, args),
    });
  }
  return Object.freeze(sender);
}

function methodNames(behaviour: object): Set<string> {
  const names = new Set<string>();
  for (
    let o: object | null = behaviour;
    o !== null && o !== Object.prototype && o !== Function.prototype;
    o = Object.getPrototypeOf(o)
  ) {
    for (const name of Object.getOwnPropertyNames(o)) {
      const desc = Object.getOwnPropertyDescriptor(o, name)!;
      if (
        name !== "constructor" && name !== "then" &&
        typeof desc.value === "function"
      ) {
        names.add(name);
      }
    }
  }
  return names;
}

function eProxy(target: unknown): unknown {
  if (LocalReference.is(target)) {
    return LocalReference.proxy(target, () => localSender(target));
  }
  const make = () => makeProxy((method, args) => deliver(target, method, args));
  if (RemotePresence.is(target)) return RemotePresence.proxy(target, make);
  return make();
}

/**
 * `E<Behaviour>(ref).method(...args)`: an eventual send. The type parameter
 * is the far object's behaviour, for typed methods; it defaults to any.
 */
export function E<T = any>(target: unknown): ESend<T> {
  return eProxy(target) as ESend<T>;
}

/** `E.sendOnly(ref).method(...args)`: no answer, returns nothing. */
E.sendOnly = function sendOnly<T = any>(target: unknown): ESendOnly<T> {
  return makeProxy((method, args) => {
    deliverOnly(target, method, args);
  }) as ESendOnly<T>;
};

/** `E.get(x).field`: a promise for a field of `x` (or of what x resolves to). */
E.get = function get(target: unknown): Record<string, Promise<unknown>> {
  return new Proxy({}, {
    get: (_, prop) =>
      typeof prop === "string" && prop !== "then"
        ? deliverGet(target, prop)
        : undefined,
  }) as Record<string, Promise<unknown>>;
};

/** Runs `onFulfilled` once `x` settles; a promise-returning `then`. */
E.when = function when<T, R = T>(
  x: T | PromiseLike<T>,
  onFulfilled?: (value: T) => R | PromiseLike<R>,
  onRejected?: (reason: unknown) => R | PromiseLike<R>,
): Promise<R> {
  return Promise.resolve(x).then(onFulfilled, onRejected) as Promise<R>;
};

export type Classification =
  | { kind: "local-reference"; vat: Vat; iface: string }
  | { kind: "remote-presence"; handler: RemoteHandler; iface: string }
  | { kind: "local-promise" }
  | {
    kind: "remote-promise";
    handler: RemoteHandler;
    state: "unresolved" | "resolved" | "broken";
  }
  | { kind: "data" };

/** What the CapTP marshaller needs to know about a value it is passing. */
export function classify(value: unknown): Classification {
  if (LocalReference.is(value)) {
    return {
      kind: "local-reference",
      vat: LocalReference.vat(value),
      iface: LocalReference.iface(value),
    };
  }
  if (RemotePresence.is(value)) {
    return {
      kind: "remote-presence",
      handler: RemotePresence.handler(value),
      iface: RemotePresence.iface(value),
    };
  }
  if (value instanceof Promise) {
    const record = promiseRecord(value);
    if (record?.handler) {
      return {
        kind: "remote-promise",
        handler: record.handler,
        state: record.state,
      };
    }
    return { kind: "local-promise" };
  }
  return { kind: "data" };
}
