/**
 * Deterministic harness: two CapTP sessions wired back to back, messages
 * pumped one at a time, the transcript recorded as decoded op labels.
 * A tiny test host stands in for the vat runtime (protocol tests do not
 * depend on runtime/). Every test ends with `finish()`: tables empty,
 * check() passing, registry empty.
 */

import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { Registry } from "../../../protocol/registry.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import { labelOf } from "../../../protocol/syrup/value.ts";
import type { OCapNPeer } from "../../../protocol/locator.ts";
import { CapTPSession } from "../../../protocol/captp/session.ts";
import { GC_INTERVAL_MS } from "../../../protocol/captp/imports.ts";
import { SessionDirectory } from "../../../protocol/captp/directory.ts";
import type {
  CapTPHost,
  Finalizer,
  FinalizerFactory,
  RemoteHandler,
} from "../../../protocol/captp/host.ts";
import type { DialectName } from "../../../protocol/captp/_wire.ts";

// ---- A minimal host ----

const BEHAVIOUR = Symbol("behaviour");
type Behaviour = ((...args: never[]) => unknown) | Record<string, unknown>;
/** A class instance, so the data model sees a reference, not a struct. */
export class Far {
  readonly [BEHAVIOUR]: Behaviour;
  constructor(behaviour: Behaviour) {
    this[BEHAVIOUR] = behaviour;
    Object.freeze(this);
  }
}
class Presence {
  constructor(readonly handler: RemoteHandler) {}
}
const remotePromises = new WeakMap<
  Promise<unknown>,
  { handler: RemoteHandler; settled: boolean }
>();

export function far(behaviour: Behaviour): Far {
  return new Far(behaviour);
}

function isFar(value: unknown): value is Far {
  return value instanceof Far;
}

/** E(target).method(...args): eventual send, pipelining through remotes. */
export function send(
  target: unknown,
  method: string | undefined,
  ...args: unknown[]
): Promise<unknown> {
  if (target instanceof Presence) {
    return target.handler.applyMethod(target, method, args);
  }
  if (target instanceof Promise) {
    const rp = remotePromises.get(target);
    if (rp !== undefined && !rp.settled) {
      return rp.handler.applyMethod(target, method, args);
    }
    return target.then((v) => send(v, method, ...args));
  }
  if (isFar(target)) {
    return Promise.resolve().then(() => {
      const b = target[BEHAVIOUR];
      if (typeof b === "function") {
        return (b as (...a: unknown[]) => unknown)(...args);
      }
      return (b[method!] as (...a: unknown[]) => unknown)(...args);
    });
  }
  return Promise.reject(new TypeError("not a reference"));
}

export function sendOnly(target: unknown, method: string, ...args: unknown[]) {
  if (target instanceof Presence) {
    return target.handler.sendOnly(target, method, args);
  }
  send(target, method, ...args).catch(() => {});
}

export const testHost: CapTPHost = {
  deliver(target, args) {
    const first = args[0];
    if (isFar(target) && typeof target[BEHAVIOUR] === "function") {
      return send(target, undefined, ...args);
    }
    if (typeof first === "symbol") {
      return send(target, Symbol.keyFor(first), ...args.slice(1));
    }
    return send(target, undefined, ...args);
  },
  deliverOnly(target, args) {
    this.deliver(target, args).catch(() => {});
  },
  makeRemotePresence: (handler) => new Presence(handler),
  makeRemotePromise(handler) {
    const kit = Promise.withResolvers<unknown>();
    const record = { handler, settled: false };
    remotePromises.set(kit.promise, record);
    return {
      promise: kit.promise,
      resolve(v) {
        record.settled = true;
        kit.resolve(v);
      },
      reject(r) {
        record.settled = true;
        kit.reject(r);
      },
    };
  },
  classify(value) {
    if (isFar(value)) return "reference";
    if (value instanceof Promise) return "promise";
    return undefined;
  },
};

// ---- Driving finalization by hand ----

/** A Finalizer whose "garbage collection" happens when a test says so. */
export class ManualFinalizer {
  #tracked = new Map<
    object,
    { token: object; onCollect: (t: object) => void }
  >();
  factory: FinalizerFactory = (onCollect) => ({
    track: (target, token) => {
      this.#tracked.set(target, { token, onCollect });
      return { deref: () => this.#tracked.has(target) ? target : undefined };
    },
  } satisfies Finalizer);

  /** Collects `target` now (as if the vat had dropped it). */
  collect(target: object): void {
    const t = this.#tracked.get(target);
    assert.ok(t, "target is not tracked");
    this.#tracked.delete(target);
    t.onCollect(t.token);
  }

  collectAll(): void {
    for (const target of [...this.#tracked.keys()]) this.collect(target);
  }

  get size(): number {
    return this.#tracked.size;
  }
}

// ---- Two vats, back to back ----

export interface Vat {
  name: string;
  location: OCapNPeer;
  registry: Registry;
  directory: SessionDirectory;
  finalizer: ManualFinalizer;
}

export function makeVat(
  name: string,
  options: { policy?: "abort-new" | "replace-old" } = {},
): Vat {
  return {
    name,
    location: { transport: "memory", designator: name, hints: {} },
    registry: new Registry(),
    directory: new SessionDirectory({
      randomBytes: nativeCrypto.randomBytes,
      duplicatePolicy: options.policy,
    }),
    finalizer: new ManualFinalizer(),
  };
}

export interface Wire {
  readonly from: string;
  readonly to: CapTPSession;
  readonly bytes?: Uint8Array;
  /** End of stream instead of a message. */
  readonly close?: boolean;
}

export class Harness {
  readonly clock = new ManualClock();
  readonly queue: Wire[] = [];
  readonly transcript: string[] = [];
  readonly sessions: CapTPSession[] = [];

  /** A connection from `a` (dialler) to `b`; returns [a's session, b's]. */
  connect(
    a: Vat,
    b: Vat,
    options: {
      dialect?: DialectName;
      start?: boolean;
      maxMessageBytes?: number;
    } = {},
  ): [CapTPSession, CapTPSession] {
    const pair: CapTPSession[] = [];
    const make = (me: Vat, peer: Vat, index: number) =>
      new CapTPSession({
        send: (bytes) =>
          this.queue.push({ from: me.name, to: pair[1 - index], bytes }),
        close: () => {
          // Like TCP: what we sent still arrives, then the peer sees EOF;
          // what the peer sent to us is never read.
          this.#drop(pair[index]);
          this.queue.push({ from: me.name, to: pair[1 - index], close: true });
          pair[index].connectionClosed("closed by us");
        },
        clock: this.clock,
        crypto: nativeCrypto,
        host: testHost,
        registry: me.registry,
        directory: me.directory,
        location: me.location,
        dialed: index === 0 ? peer.location : undefined,
        dialect: options.dialect,
        maxMessageBytes: options.maxMessageBytes,
        finalizer: me.finalizer.factory,
        handshakeTimeoutMs: 1000,
        abortGraceMs: 100,
      });
    pair[0] = make(a, b, 0);
    pair[1] = make(b, a, 1);
    const [sa, sb] = pair;
    this.sessions.push(sa, sb);
    if (options.start !== false) {
      sa.start();
      sb.start();
    }
    return [sa, sb];
  }

  /** Drops queued messages to `session` (its connection is gone). */
  #drop(session: CapTPSession): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].to === session) this.queue.splice(i, 1);
    }
  }

  /** Delivers the oldest queued message; false when none. */
  pump(): boolean {
    const wire = this.queue.shift();
    if (wire === undefined) return false;
    if (wire.close) {
      this.transcript.push(`${wire.from}: (close)`);
      wire.to.connectionClosed("closed by the peer");
      return true;
    }
    this.transcript.push(`${wire.from}: ${describe(wire.bytes!)}`);
    wire.to.handleMessage(wire.bytes!);
    return true;
  }

  /** Lets promise reactions run (no timers: bounded microtask turns). */
  async ticks(n = 50): Promise<void> {
    for (let i = 0; i < n; i++) await Promise.resolve();
  }

  /**
   * Pumps until nothing is queued and nothing more gets queued, letting
   * the GC interval pass (imports.ts paces GC messages) each time it runs dry.
   */
  async settle(limit = 10_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      await this.ticks();
      if (!this.pump() && await this.quiet()) return;
    }
    throw new Error("Harness did not settle");
  }

  /** True when nothing gets queued even after one GC interval passes. */
  async quiet(): Promise<boolean> {
    await this.ticks();
    if (this.queue.length > 0) return false;
    if (this.clock.pending === 0) return true;
    this.clock.advance(GC_INTERVAL_MS);
    await this.ticks();
    return this.queue.length === 0;
  }

  /** Labels sent since index `from`. */
  labels(from = 0): string[] {
    return this.transcript.slice(from);
  }
}

function describe(bytes: Uint8Array): string {
  try {
    return labelOf(decode(bytes)) ?? "?";
  } catch {
    return "undecodable";
  }
}

/** Closes every session, then asserts tables empty and registries empty. */
export async function finish(h: Harness, vats: Vat[]): Promise<void> {
  for (const s of h.sessions) {
    s.check();
  }
  for (const s of h.sessions) s.connectionClosed("test over");
  await h.ticks();
  h.clock.runAll();
  for (const s of h.sessions) {
    assert.equal(s.state, "closed");
    assert.deepEqual(s.stats(), {
      exports: 0,
      imports: 0,
      questions: 0,
      answers: 0,
    });
    s.check();
  }
  for (const v of vats) {
    assert.equal(v.registry.stats().live, 0, `${v.name} registry not empty`);
    assert.equal(v.directory.size, 0, `${v.name} directory not empty`);
  }
}

/** Asserts an open session's tables are empty (the GC story is complete). */
export function assertTablesEmpty(...sessions: CapTPSession[]): void {
  for (const s of sessions) {
    s.check();
    assert.deepEqual(s.stats(), {
      exports: 0,
      imports: 0,
      questions: 0,
      answers: 0,
    });
  }
}
