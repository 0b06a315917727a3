/**
 * The outbound half of an open CapTP session: presences for the peer's
 * exports, questions and promise pipelining, and marshalling our values
 * (CapTP draft, "op:deliver", "Promise pipelining", "Descriptors").
 *
 * Why it is separate from engine.ts: everything here starts in our vat (a
 * call on a presence or a question promise) and ends in a write; the
 * engine's inbound dispatch only uses it to encode answers and to make
 * presences for the imports it reads.
 *
 * Pipelining: a question's promise is a remote promise whose messages go
 * out as op:deliver to `<desc:answer q>` at once, before the answer returns.
 * Questions carry a resolver we export; when it is told `fulfill`/`break`
 * the promise settles and op:gc-answers frees the answer position.
 */

import type { SyrupRecord, SyrupValue } from "../syrup/value.ts";
import type { HandleTable } from "../registry.ts";
import { toSyrup } from "../model.ts";
import { CapTPError, type SessionSeveredError } from "./errors.ts";
import type { CapTPHost, RemoteHandler, RemotePromiseKit } from "./host.ts";
import type { ExportTable } from "./tables.ts";
import type { ImportPos, QuestionPos } from "./positions.ts";
import {
  descAnswer,
  descExport,
  descImportObject,
  descImportPromise,
  opDeliver,
  opDeliverOnly,
  opListen,
} from "./operation_writers.ts";
import { type Dialect, OwnedHandler, Resolver } from "./_wire.ts";
import type { Imports } from "./imports.ts";

export interface Question {
  kit: RemotePromiseKit;
  state: "pending" | "fulfilled" | "broken";
  value: unknown;
  /** `<desc:answer q>`: what the question's promise is while pending. */
  desc: SyrupValue;
}

export interface OutboundOptions {
  host: CapTPHost;
  dialect: Dialect;
  send(record: SyrupRecord): void;
  exports: ExportTable;
  imports: Imports;
  /** Positions chosen by us (the registry's dense handles). */
  questions: HandleTable<Question>;
  /** Handoff seam: a descriptor for a reference of another session. */
  encodeForeign?(value: object): SyrupValue | undefined;
}

const noop = () => {};
/** Our own domain errors say nothing secret; everything else stays opaque. */
const revealError = (e: Error) =>
  e instanceof CapTPError ? e.message : undefined;
/** Selector symbols by method name: Symbol.for is a call into C++. */
const selectors = new Map<string, symbol>();
function withMethod(method: string | undefined, args: unknown[]): unknown[] {
  if (method === undefined) return args;
  let selector = selectors.get(method);
  if (selector === undefined) {
    selector = Symbol.for(method);
    if (selectors.size < 4096) selectors.set(method, selector);
  }
  switch (args.length) {
    case 0:
      return [selector];
    case 1:
      return [selector, args[0]];
    case 2:
      return [selector, args[0], args[1]];
  }
  return [selector, ...args];
}

export class Outbound {
  #o: OutboundOptions;
  /**
   * Our presences and question promises, for encoding them back, when the
   * host cannot name their handlers (see OwnedHandler).
   */
  #mine = new WeakMap<object, SyrupValue | Question>();
  #severed: SessionSeveredError | undefined;
  #encodeRef = (value: object) => this.#encodeRefImpl(value);

  constructor(options: OutboundOptions) {
    this.#o = options;
  }

  /** The presence for the peer's export at `pos`, made if none is alive. */
  presence(pos: ImportPos, kind: "object" | "promise"): object {
    const entry = this.#o.imports.entry(pos, kind);
    const live = entry.presence?.deref();
    if (live !== undefined) return live;
    const desc = descExport(pos);
    const handler = this.#own(desc, this.handler(desc));
    let presence: object;
    if (kind === "promise") {
      const kit = this.#o.host.makeRemotePromise(handler);
      kit.promise.catch(noop);
      entry.kit = kit;
      presence = kit.promise;
      const resolver = new Resolver(([k, v]) =>
        k === "fulfill" ? kit.resolve(v) : kit.reject(v)
      );
      const listen = descImportObject(this.#o.exports.exportNew(resolver));
      const partial = this.#o.dialect.listenFields === 3 ? false : undefined;
      this.#o.send(opListen(descExport(pos), listen, partial));
    } else {
      presence = this.#o.host.makeRemotePresence(handler);
    }
    this.#remember(presence, desc);
    this.#o.imports.track(entry, presence);
    return presence;
  }

  /** Where messages to `target` (a desc:export or desc:answer) go. */
  handler(target: SyrupRecord): RemoteHandler {
    return {
      applyMethod: (_t, method, args) => this.call(target, method, args),
      sendOnly: (_t, method, args) => {
        if (this.#severed) return;
        try {
          const wire = this.encode(withMethod(method, args));
          this.sendOnly(target, wire as SyrupValue[]);
        } catch { /* a send-only has nowhere to report */ }
      },
    };
  }

  /** A deliver with no answer, spelled as the dialect wants. */
  sendOnly(to: SyrupRecord, args: SyrupValue[]): void {
    this.#o.send(
      this.#o.dialect.deliverOnly
        ? opDeliverOnly(to, args)
        : opDeliver(to, args),
    );
  }

  /** Asks `method(args)` of `target`; the answer's promise pipelines. */
  call(
    target: SyrupRecord,
    method: string | undefined,
    args: unknown[],
  ): Promise<unknown> {
    if (this.#severed) return Promise.reject(this.#severed);
    let wire: SyrupValue;
    try {
      wire = this.encode(withMethod(method, args));
    } catch (error) {
      return Promise.reject(error);
    }
    // Every field set here, so the object keeps one shape.
    const question: Question = {
      kit: undefined!,
      state: "pending",
      value: undefined,
      desc: undefined!,
    };
    const q = this.#o.questions.allocate(question) as QuestionPos;
    question.desc = descAnswer(q);
    const kit = this.#o.host.makeRemotePromise(this.#own(question, {
      applyMethod: (_t, m, a) =>
        question.state === "pending"
          ? this.call(descAnswer(q), m, a)
          : kit.promise.then(() =>
            this.#o.host.deliver(question.value, withMethod(m, a))
          ),
      sendOnly: (_t, m, a) => {
        if (question.state === "pending") {
          this.handler(descAnswer(q)).sendOnly(_t, m, a);
        }
      },
    }));
    kit.promise.catch(noop);
    question.kit = kit;
    this.#remember(kit.promise, question);
    const resolver = new Resolver(([kind, value]) => {
      if (question.state !== "pending") return;
      question.state = kind === "fulfill" ? "fulfilled" : "broken";
      question.value = value;
      if (kind === "fulfill") kit.resolve(value);
      else kit.reject(value);
      this.#o.imports.answered(q);
    });
    const r = this.#o.exports.exportNew(resolver);
    this.#o.send(opDeliver(target, wire as SyrupValue[], {
      answerPos: q,
      resolveMeDesc: descImportObject(r),
    }));
    return kit.promise;
  }

  // ---- Marshalling ----

  encode(value: unknown): SyrupValue {
    return toSyrup(value, { encodeRef: this.#encodeRef, revealError });
  }

  /** What `value` stands for if it is our presence or question promise. */
  #mineOf(value: object): SyrupValue | Question | undefined {
    const host = this.#o.host;
    return host.handlerOf === undefined
      ? this.#mine.get(value)
      : OwnedHandler.what(host.handlerOf(value), this);
  }

  /** `handler`, marked as standing for `what` when `made` is encoded back. */
  #own(what: SyrupValue | Question, handler: RemoteHandler): RemoteHandler {
    return this.#o.host.handlerOf === undefined
      ? handler
      : new OwnedHandler(this, what, handler);
  }

  /** Records `made` for #mineOf when the host cannot name its handler. */
  #remember(made: object, what: SyrupValue | Question): void {
    if (this.#o.host.handlerOf === undefined) this.#mine.set(made, what);
  }

  #encodeRefImpl(value: object): SyrupValue | undefined {
    const mine = this.#mineOf(value);
    if (mine !== undefined && !("kit" in (mine as object))) {
      return mine as SyrupValue;
    }
    if (mine !== undefined) {
      const q = mine as Question;
      // A settled question stands for what it became.
      if (q.state === "fulfilled") return this.encode(q.value);
      if (q.state === "pending") return q.desc;
    }
    const kind = this.#o.host.classify(value);
    if (kind === "reference") {
      return descImportObject(this.#o.exports.export(value));
    }
    if (kind === "promise") {
      return descImportPromise(this.#o.exports.export(value));
    }
    return this.#o.encodeForeign?.(value);
  }

  /** The descriptor naming `value` on the wire, if it is our presence. */
  descriptorOf(value: object): SyrupValue | undefined {
    const mine = this.#mineOf(value);
    return mine !== undefined && !("kit" in (mine as object))
      ? mine as SyrupValue
      : undefined;
  }

  // ---- Severance ----

  /** Breaks every pending question and frees every question position. */
  sever(error: SessionSeveredError): void {
    this.#severed = error;
    const questions = this.#o.questions;
    for (const [q, question] of [...questions.entries()]) {
      if (question.state === "pending") {
        question.state = "broken";
        question.kit.reject(error);
      }
      questions.release(q);
    }
  }
}
