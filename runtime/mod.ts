/**
 * The vat runtime: event-loop vats, eventual send, promises that pipeline.
 *
 * How references are made (the one way): a vat turns a behaviour into an
 * opaque reference with `vat.makeFar(iface, behaviour)`. The behaviour is a
 * methods object (`E(ref).method(...args)`) or a function (`E(ref)(...args)`).
 * The reference itself has no methods: code in other vats can only send to
 * it, and each message runs as one turn in the owning vat.
 *
 * ```ts
 * const vat = new Vat({ name: "alice" });
 * const counter = vat.makeFar("Counter", { n: 0, incr() { return ++this.n; } });
 * await E(counter).incr(); // 1
 * E.sendOnly(counter).incr(); // no answer
 * ```
 *
 * Promises: `makePromiseKit()` / `vat.makePromiseKit()`; messages sent to an
 * unresolved one queue and follow it when it resolves (local pipelining).
 * CapTP plugs in through `makeRemotePresence(handler)` and
 * `makeRemotePromise(handler)`: messages to those go to `handler`
 * (`applyMethod`, `sendOnly`, `get`), and `deliver(target, method, args)` is
 * the dispatch it calls for incoming messages; `classify(value)` tells its
 * marshaller what a value is.
 */
export { Vat } from "./vat.ts";
export type { VatOptions, VatStats } from "./vat.ts";
export { classify, deliver, deliverGet, deliverOnly, E } from "./e.ts";
export type { Classification, ESend, ESendOnly } from "./e.ts";
export { makePromiseKit, makeRemotePromise } from "./promise.ts";
export type { PromiseKit } from "./promise.ts";
export { LocalReference, makeRemotePresence, RemotePresence } from "./refs.ts";
export type { Behaviour, RemoteHandler } from "./refs.ts";
export { VatShutdownError } from "./errors.ts";
export { SystemClock } from "./system_clock.ts";
