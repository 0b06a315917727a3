/**
 * References: what a vat hands out instead of its objects (the OCapN model's
 * "live reference"). A local reference is an opaque, frozen token; its
 * behaviour (a methods object or a function) is reachable only by eventual
 * send, so an object in another vat cannot call it synchronously. A remote
 * presence is the same kind of token whose messages go to a `RemoteHandler`;
 * that is the extension point CapTP plugs into.
 */
import type { Vat } from "./vat.ts";
import type { RemoteHandler as CapTPRemoteHandler } from "../protocol/captp/host.ts";

/** A methods object, or a function for a callable reference. */
export type Behaviour =
  | ((...args: never[]) => unknown)
  | { readonly [method: string]: unknown };

/** What a vat offers its references; module-private by its symbol keys. */
export const POST = Symbol("post");
export const POST_ONLY = Symbol("postOnly");

export interface TurnQueue {
  [POST](
    ref: object,
    method: string | undefined,
    args: unknown[],
  ): Promise<unknown>;
  [POST_ONLY](ref: object, method: string | undefined, args: unknown[]): void;
}

/**
 * Where messages to a remote presence or remote promise go: the engine's
 * handler (protocol/captp/host.ts), which may also answer `get`. `target` is
 * the presence or the promise itself. Calls must not run user code
 * synchronously.
 */
export interface RemoteHandler extends CapTPRemoteHandler {
  get?(target: object, field: string): Promise<unknown>;
}

export class LocalReference {
  readonly #vat: Vat & TurnQueue;
  readonly #behaviour: Behaviour;
  readonly #iface: string;
  /** The E() proxy, made on first use; private fields ignore freezing. */
  #proxy: unknown;

  constructor(vat: Vat & TurnQueue, iface: string, behaviour: Behaviour) {
    this.#vat = vat;
    this.#iface = iface;
    this.#behaviour = behaviour;
    Object.freeze(this);
  }

  static is(value: unknown): value is LocalReference {
    return typeof value === "object" && value !== null && #vat in value;
  }

  static vat(ref: LocalReference): Vat & TurnQueue {
    return ref.#vat;
  }

  static iface(ref: LocalReference): string {
    return ref.#iface;
  }

  static behaviour(ref: LocalReference): Behaviour {
    return ref.#behaviour;
  }

  static proxy<P>(ref: LocalReference, make: () => P): P {
    return (ref.#proxy ??= make()) as P;
  }

  get [Symbol.toStringTag](): string {
    return `Alleged: ${this.#iface}`;
  }
}

export class RemotePresence {
  readonly #handler: RemoteHandler;
  readonly #iface: string;
  #proxy: unknown;

  constructor(handler: RemoteHandler, iface: string) {
    this.#handler = handler;
    this.#iface = iface;
    Object.freeze(this);
  }

  static is(value: unknown): value is RemotePresence {
    return typeof value === "object" && value !== null && #handler in value;
  }

  static handler(presence: RemotePresence): RemoteHandler {
    return presence.#handler;
  }

  static iface(presence: RemotePresence): string {
    return presence.#iface;
  }

  static proxy<P>(presence: RemotePresence, make: () => P): P {
    return (presence.#proxy ??= make()) as P;
  }

  get [Symbol.toStringTag](): string {
    return `Alleged: remote ${this.#iface}`;
  }
}

/** A reference whose messages go to `handler` (CapTP's imports). */
export function makeRemotePresence(
  handler: RemoteHandler,
  iface = "Remotable",
): RemotePresence {
  return new RemotePresence(handler, iface);
}
