/**
 * The open-session half of CapTP: delivering messages both ways, questions
 * and answers, promise pipelining, op:listen, op:get/index/untag and GC
 * (CapTP draft, "Operations"; shared/ocapn-notes.md "CapTP").
 *
 * Why it is separate from session.ts: the handshake and lifecycle decide
 * whether a message may be handled at all; this decides what it does. It
 * owns the four tables and is pure (no I/O but the injected `send`).
 *
 * Pipelining: a question's promise is a remote promise whose messages go
 * out as op:deliver to `<desc:answer q>` at once, before the answer returns.
 * Questions carry a resolver we export; when it is told `fulfill`/`break`
 * the promise settles and op:gc-answers frees the answer position.
 */

import type { SyrupRecord, SyrupValue } from "../syrup/value.ts";
import type { HandleTable, Registry } from "../registry.ts";
import { fromSyrup, NOT_HANDLED, toSyrup } from "../model.ts";
import { peerFromSyrup, sturdyRefFromSyrup } from "../locator.ts";
import { quote } from "../errors.ts";
import {
  CapTPError,
  ProtocolViolationError,
  SessionSeveredError,
} from "./errors.ts";
import type { CapTPHost, FinalizerFactory, RemoteHandler } from "./host.ts";
import { weakFinalizer } from "./host.ts";
import { type AnswerTable, ExportTable, type ImportEntry } from "./tables.ts";
import {
  BOOTSTRAP_POS,
  type ImportPos,
  type QuestionPos,
} from "./positions.ts";
import * as ops from "./operations.ts";
import { type Dialect, OwnedHandler, Resolver } from "./_wire.ts";
import {
  deliverToBootstrap,
  type GiftExchange,
  SwissTable,
} from "./bootstrap.ts";
import { select } from "./_select.ts";

export interface EngineOptions {
  host: CapTPHost;
  registry: Registry;
  dialect: Dialect;
  send(record: SyrupRecord): void;
  swiss: SwissTable;
  gifts?: GiftExchange;
  finalizer?: FinalizerFactory;
  /** Handoff seam: a descriptor for a reference of another session. */
  encodeForeign?(value: object): SyrupValue | undefined;
  /** Handoff seam: a value for a record such as desc:sig-envelope. */
  decodeForeign?(record: SyrupRecord): unknown;
  /** Registry kind prefix, unique per session. */
  kind: string;
  /** The session this engine serves, as deposit-gift / withdraw-gift see it. */
  session?: object;
}

interface Question {
  kit: {
    promise: Promise<unknown>;
    resolve(v: unknown): void;
    reject(r: unknown): void;
  };
  state: "pending" | "fulfilled" | "broken";
  value: unknown;
}

const FULFILL = Symbol.for("fulfill");
const BREAK = Symbol.for("break");
const noop = () => {};
/** Our own domain errors say nothing secret; everything else stays opaque. */
const revealError = (e: Error) =>
  e instanceof CapTPError ? e.message : undefined;
const bootstrapMarker = Object.freeze({ bootstrap: true });

export class Engine {
  #o: EngineOptions;
  #exports: ExportTable = new ExportTable(bootstrapMarker);
  /** Positions chosen by the peer. */
  #imports = new Map<ImportPos, ImportEntry>();
  /** Positions chosen by us (the registry's dense handles). */
  #questions: HandleTable<Question>;
  /** Positions chosen by the peer. */
  #answers: AnswerTable = new Map();
  /**
   * Our presences and question promises, for encoding them back, when the
   * host cannot name their handlers (see OwnedHandler).
   */
  #mine = new WeakMap<object, SyrupValue | Question>();
  #finalizer;
  #severed: SessionSeveredError | undefined;
  #gcExports = new Map<ImportPos, number>();
  #gcAnswers: QuestionPos[] = [];
  #flushQueued = false;
  #decodeRecord = (rec: SyrupRecord) => this.#decodeDesc(rec);
  #encodeRef = (value: object) => this.#encodeRefImpl(value);

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#questions = options.registry.handles<Question>(
      `${options.kind}.questions`,
    );
    this.#finalizer = (options.finalizer ?? weakFinalizer)((token) =>
      this.#collected(token as { pos: ImportPos; generation: number })
    );
  }

  /** A presence for the peer's bootstrap object (its export 0). */
  bootstrap(): object {
    return this.#importPresence(BOOTSTRAP_POS as number as ImportPos, "object");
  }

  /** `method(args)` on the peer's bootstrap object, as a question. */
  callBootstrap(method: string, args: unknown[]): Promise<unknown> {
    return this.#call(
      ops.descExport(BOOTSTRAP_POS as number as ImportPos),
      method,
      args,
    );
  }

  /** `method(args)` on the peer's bootstrap object, no answer wanted. */
  sendBootstrap(method: string, args: unknown[]): void {
    this.#handler(ops.descExport(BOOTSTRAP_POS as number as ImportPos))
      .sendOnly(bootstrapMarker, method, args);
  }

  // ---- Incoming operations ----

  /** Handles one operation of an open session; ProtocolViolationError aborts. */
  handle(op: ops.Operation): void {
    switch (op.type) {
      case "op:deliver":
        return this.#deliver(op);
      case "op:listen": {
        const target = this.#target(op.to);
        const listener = this.#pin(op.listenDesc);
        this.#settleTo(Promise.resolve(target), listener);
        return;
      }
      case "op:get":
      case "op:index":
      case "op:untag": {
        const target = this.#target(op.receiverDesc);
        this.#claimAnswer(op.newAnswerPos);
        const { type, key } = op;
        const answer = Promise.resolve(target).then((v) =>
          select(type, v, key)
        );
        this.#setAnswer(op.newAnswerPos, answer);
        return;
      }
      case "op:gc-exports":
        op.exportPositions.forEach((pos, i) => {
          if (!this.#exports.release(pos, op.wireDeltas[i])) {
            this.#violation(`op:gc-exports: bad position or delta at ${pos}`);
          }
        });
        return;
      case "op:gc-answers":
        for (const pos of op.answerPositions) {
          if (!this.#answers.delete(pos)) {
            this.#violation(`op:gc-answers: no answer at position ${pos}`);
          }
        }
        return;
      case "op:start-session":
      case "op:abort":
        throw new TypeError(`Engine does not handle ${op.type}`);
    }
  }

  #deliver(op: Extract<ops.Operation, { type: "op:deliver" }>): void {
    const target = this.#target(op.to);
    if (op.answerPos !== false) this.#claimAnswer(op.answerPos);
    const resolver = op.resolveMeDesc === false
      ? undefined
      : this.#pin(op.resolveMeDesc);
    const args = this.#decode(op.args, "op:deliver args") as unknown[];
    if (target instanceof Resolver) {
      target.settle(this.#resolution(args));
      if (resolver !== undefined) this.#settleTo(Promise.resolve(), resolver);
      return;
    }
    if (op.answerPos === false && resolver === undefined) {
      if (target === bootstrapMarker) this.#toBootstrap(args).catch(noop);
      else this.#o.host.deliverOnly(target, args);
      return;
    }
    const answer = target === bootstrapMarker
      ? this.#toBootstrap(args)
      : this.#o.host.deliver(target, args);
    if (op.answerPos !== false) this.#setAnswer(op.answerPos, answer);
    if (resolver !== undefined) this.#settleTo(answer, resolver);
  }

  #violation(message: string): never {
    throw new ProtocolViolationError(message);
  }

  #toBootstrap(args: unknown[]): Promise<unknown> {
    return deliverToBootstrap(args, {
      swiss: this.#o.swiss,
      gifts: this.#o.gifts,
      session: this.#o.session,
    });
  }

  #resolution(args: unknown[]): ["fulfill" | "break", unknown] {
    if (args.length === 2 && (args[0] === FULFILL || args[0] === BREAK)) {
      return [args[0] === FULFILL ? "fulfill" : "break", args[1]];
    }
    return this.#violation(
      `resolver expects fulfill or break, got ${quote(args[0])}`,
    );
  }

  #target(desc: ops.TargetDesc): unknown {
    if (desc.type === "desc:export") {
      if (!this.#exports.has(desc.position)) {
        this.#violation(`No export at position ${desc.position}`);
      }
      return this.#exports.get(desc.position);
    }
    const answer = this.#answers.get(desc.position);
    if (answer === undefined) {
      this.#violation(`No answer at position ${desc.position}`);
    }
    return answer;
  }

  #claimAnswer(pos: ops.TargetDesc["position"]): void {
    if (this.#answers.has(pos as never)) {
      this.#violation(`Answer position ${pos} is already in use`);
    }
  }

  #setAnswer(pos: ops.TargetDesc["position"], answer: Promise<unknown>): void {
    answer.catch(noop); // observed by whoever listens; never unhandled
    this.#answers.set(pos as never, answer);
  }

  /** Reports `promise`'s settlement to the peer's resolver, then unpins it. */
  #settleTo(promise: Promise<unknown>, resolver: ImportEntry): void {
    const report = (kind: symbol, value: unknown) => {
      if (this.#severed) return;
      // Unpinning below releases the resolver (op:gc-exports). Queued
      // before the send, the GC flush runs ahead of the transport's write,
      // so the release shares the resolution's write instead of a second one.
      this.#queueFlush();
      let wire: SyrupValue;
      try {
        wire = this.#encode([kind, value]);
      } catch (error) {
        wire = this.#encode([
          BREAK,
          error instanceof Error ? error : new Error(),
        ]);
      }
      this.#sendResolution(resolver.pos, wire as SyrupValue[]);
      this.#unpin(resolver);
    };
    promise.then((v) => report(FULFILL, v), (e) => report(BREAK, e));
  }

  #sendResolution(pos: ImportPos, args: SyrupValue[]): void {
    this.#sendOnly(ops.descExport(pos), args);
  }

  /** A deliver with no answer, spelled as the dialect wants. */
  #sendOnly(to: SyrupRecord, args: SyrupValue[]): void {
    this.#o.send(
      this.#o.dialect.deliverOnly
        ? ops.opDeliverOnly(to, args)
        : ops.opDeliver(to, args),
    );
  }

  // ---- Marshalling ----

  #decode(value: SyrupValue, path: string): unknown {
    return fromSyrup(value, { decodeRecord: this.#decodeRecord, path });
  }

  #decodeDesc(rec: SyrupRecord): unknown {
    const label = typeof rec.label === "symbol" ? Symbol.keyFor(rec.label) : "";
    switch (label) {
      case "desc:import-object":
      case "desc:import-promise": {
        const d = ops.readImport(rec, "argument");
        const kind = d.type === "desc:import-object" ? "object" : "promise";
        const presence = this.#importPresence(d.position, kind);
        this.#imports.get(d.position)!.count++;
        return presence;
      }
      case "desc:export":
      case "desc:answer":
        return this.#target(ops.readTarget(rec, "argument"));
      case "ocapn-sturdyref":
        // Passed as data (the suite's enlivener takes one): the callee
        // decides whether to enliven it.
        return sturdyRefFromSyrup(rec, { path: "argument" });
      case "ocapn-peer":
        return peerFromSyrup(rec, { path: "argument" });
    }
    const foreign = this.#o.decodeForeign?.(rec);
    return foreign === undefined ? NOT_HANDLED : foreign;
  }

  #encode(value: unknown): SyrupValue {
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
      if (q.state === "fulfilled") return this.#encode(q.value);
      if (q.state === "pending") {
        return (q as Question & { desc: SyrupValue }).desc;
      }
    }
    const kind = this.#o.host.classify(value);
    if (kind === "reference") {
      return ops.descImportObject(this.#exports.export(value));
    }
    if (kind === "promise") {
      return ops.descImportPromise(this.#exports.export(value));
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

  // ---- Imports and GC ----

  #importPresence(pos: ImportPos, kind: "object" | "promise"): object {
    let entry = this.#imports.get(pos);
    if (entry === undefined) {
      entry = {
        pos,
        kind,
        count: 0,
        pins: 0,
        presence: undefined,
        generation: 0,
        kit: undefined,
      };
      this.#imports.set(pos, entry);
    }
    const live = entry.presence?.deref();
    if (live !== undefined) return live;
    entry.generation++;
    const desc = ops.descExport(pos);
    const handler = this.#own(desc, this.#handler(desc));
    let presence: object;
    if (kind === "promise") {
      const kit = this.#o.host.makeRemotePromise(handler);
      kit.promise.catch(noop);
      entry.kit = kit;
      presence = kit.promise;
      const resolver = new Resolver(([k, v]) =>
        k === "fulfill" ? kit.resolve(v) : kit.reject(v)
      );
      const listen = ops.descImportObject(this.#exports.export(resolver));
      const partial = this.#o.dialect.listenFields === 3 ? false : undefined;
      this.#o.send(ops.opListen(ops.descExport(pos), listen, partial));
    } else {
      presence = this.#o.host.makeRemotePresence(handler);
    }
    this.#remember(presence, desc);
    entry.presence = this.#finalizer.track(presence, {
      pos,
      generation: entry.generation,
    });
    return presence;
  }

  #pin(desc: ops.ImportDesc): ImportEntry {
    let entry = this.#imports.get(desc.position);
    if (entry === undefined) {
      const kind = desc.type === "desc:import-object" ? "object" : "promise";
      entry = {
        pos: desc.position,
        kind,
        count: 0,
        pins: 0,
        presence: undefined,
        generation: 0,
        kit: undefined,
      };
      this.#imports.set(desc.position, entry);
    }
    entry.count++;
    entry.pins++;
    return entry;
  }

  #unpin(entry: ImportEntry): void {
    entry.pins--;
    this.#maybeRelease(entry);
  }

  #collected(token: { pos: ImportPos; generation: number }): void {
    const entry = this.#imports.get(token.pos);
    if (
      this.#severed || entry === undefined ||
      entry.generation !== token.generation
    ) return;
    entry.presence = undefined;
    this.#maybeRelease(entry);
  }

  #maybeRelease(entry: ImportEntry): void {
    if (entry.pins > 0 || entry.presence?.deref() !== undefined) return;
    if (this.#imports.get(entry.pos) !== entry) return;
    this.#imports.delete(entry.pos);
    // The peer's bootstrap object is never collected.
    if (entry.pos === BOOTSTRAP_POS as number || entry.count === 0) return;
    this.#gcExports.set(
      entry.pos,
      (this.#gcExports.get(entry.pos) ?? 0) + entry.count,
    );
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    Promise.resolve().then(() => this.flushGc());
  }

  /** Sends pending op:gc-exports / op:gc-answers (normally at microtask end). */
  flushGc(): void {
    this.#flushQueued = false;
    if (this.#severed) return;
    const style = this.#o.dialect.gc;
    if (this.#gcExports.size > 0) {
      const positions = [...this.#gcExports.keys()];
      const deltas = [...this.#gcExports.values()];
      this.#gcExports.clear();
      for (const r of ops.opGcExports(positions, deltas, style)) {
        this.#o.send(r);
      }
    }
    if (this.#gcAnswers.length > 0) {
      const positions = this.#gcAnswers;
      this.#gcAnswers = [];
      for (const r of ops.opGcAnswers(positions, style)) this.#o.send(r);
      // Only now may a position be reused: the peer reads the gc first.
      for (const q of positions) this.#questions.release(q);
    }
  }

  // ---- Outgoing messages ----

  #handler(target: SyrupRecord): RemoteHandler {
    return {
      applyMethod: (_t, method, args) => this.#call(target, method, args),
      sendOnly: (_t, method, args) => {
        if (this.#severed) return;
        try {
          const wire = this.#encode(
            method === undefined ? args : [Symbol.for(method), ...args],
          );
          this.#sendOnly(target, wire as SyrupValue[]);
        } catch { /* a send-only has nowhere to report */ }
      },
    };
  }

  #call(
    target: SyrupRecord,
    method: string | undefined,
    args: unknown[],
  ): Promise<unknown> {
    if (this.#severed) return Promise.reject(this.#severed);
    let wire: SyrupValue;
    try {
      wire = this.#encode(
        method === undefined ? args : [Symbol.for(method), ...args],
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const question = { state: "pending", value: undefined } as Question & {
      desc: SyrupValue;
    };
    const q = this.#questions.allocate(question) as QuestionPos;
    question.desc = ops.descAnswer(q);
    const kit = this.#o.host.makeRemotePromise(this.#own(question, {
      applyMethod: (_t, m, a) =>
        question.state === "pending"
          ? this.#call(ops.descAnswer(q), m, a)
          : kit.promise.then(() =>
            this.#o.host.deliver(
              question.value,
              m === undefined ? a : [Symbol.for(m), ...a],
            )
          ),
      sendOnly: (_t, m, a) => {
        if (question.state === "pending") {
          this.#handler(ops.descAnswer(q)).sendOnly(_t, m, a);
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
      this.#gcAnswers.push(q);
      this.#queueFlush();
    });
    const r = this.#exports.export(resolver);
    this.#o.send(ops.opDeliver(target, wire as SyrupValue[], {
      answerPos: q,
      resolveMeDesc: ops.descImportObject(r),
    }));
    return kit.promise;
  }

  // ---- Severance and invariants ----

  /** Breaks every unresolved promise of the session; idempotent. */
  sever(reason: string): void {
    if (this.#severed) return;
    const error = new SessionSeveredError(reason);
    this.#severed = error;
    for (const [q, question] of [...this.#questions.entries()]) {
      if (question.state === "pending") {
        question.state = "broken";
        question.kit.reject(error);
      }
      this.#questions.release(q);
    }
    for (const entry of this.#imports.values()) entry.kit?.reject(error);
    this.#imports.clear();
    this.#answers.clear();
    this.#exports.clear();
    this.#gcExports.clear();
    this.#gcAnswers = [];
  }

  get severed(): SessionSeveredError | undefined {
    return this.#severed;
  }

  stats(): {
    exports: number;
    imports: number;
    questions: number;
    answers: number;
  } {
    return {
      exports: this.#exports.size - 1, // the bootstrap object is permanent
      imports: [...this.#imports.keys()].filter((p) => p !== 0).length,
      questions: this.#questions.size,
      answers: this.#answers.size,
    };
  }

  /** Asserts internal invariants (capnp-rpc's check_finished). */
  check(): void {
    this.#exports.check();
    for (const [pos, entry] of this.#imports) {
      if (entry.pos !== pos) {
        throw new Error(`Import ${pos} filed under ${entry.pos}`);
      }
      if (entry.pins < 0 || entry.count < 0) {
        throw new Error(`Import ${pos} has negative counts`);
      }
    }
    for (const [, q] of this.#questions.entries()) {
      if (q.state === "pending" && this.#severed) {
        throw new Error("Pending question after severance");
      }
    }
  }
}
