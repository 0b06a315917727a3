/**
 * The inbound half of an open CapTP session: dispatching each operation the
 * peer sends (CapTP draft, "Operations": op:deliver, op:listen,
 * op:get/index/untag, op:gc-exports, op:gc-answers; shared/ocapn-notes.md
 * "CapTP"), plus the session-facing API that ties the halves together.
 *
 * Why it is separate from session.ts: the handshake and lifecycle decide
 * whether a message may be handled at all; this decides what it does. It
 * owns the four tables and is pure (no I/O but the injected `send`). Calls
 * we make live in outbound.ts; import bookkeeping and GC in imports.ts.
 */

import type { Clock } from "../clock.ts";
import type { SyrupRecord, SyrupValue } from "../syrup/value.ts";
import type { HandleTable, Registry } from "../registry.ts";
import { fromSyrup, NOT_HANDLED } from "../model.ts";
import { quote } from "../errors.ts";
import { ProtocolViolationError, SessionSeveredError } from "./errors.ts";
import type { CapTPHost, FinalizerFactory } from "./host.ts";
import { type AnswerTable, ExportTable, type ImportEntry } from "./tables.ts";
import { BOOTSTRAP_POS, type ImportPos } from "./positions.ts";
import * as ops from "./operations.ts";
import { type Dialect, Resolver } from "./_wire.ts";
import {
  deliverToBootstrap,
  type GiftExchange,
  SwissTable,
} from "./bootstrap.ts";
import { select } from "./_select.ts";
import { Imports } from "./imports.ts";
import { Outbound, type Question } from "./outbound.ts";

export interface EngineOptions {
  host: CapTPHost;
  registry: Registry;
  /** Paces the GC messages (imports.ts). */
  clock: Clock;
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

const FULFILL = Symbol.for("fulfill");
const BREAK = Symbol.for("break");
const noop = () => {};
/**
 * Our bootstrap object as the vat sees it (`<desc:export 0>` in arguments,
 * an op:listen on export 0): a class instance, so the data model passes it
 * by reference and it goes back as `<desc:import-object 0>`; a plain object
 * would cross as the struct `{"bootstrap": true}`.
 */
class BootstrapObject {}
const bootstrapMarker = Object.freeze(new BootstrapObject());
const BOOTSTRAP = BOOTSTRAP_POS as number as ImportPos;

export class Engine {
  #o: EngineOptions;
  #exports: ExportTable = new ExportTable(bootstrapMarker);
  #imports: Imports;
  /** Positions chosen by the peer. */
  #answers: AnswerTable = new Map();
  /** Positions chosen by us; outbound.ts allocates them. */
  #questions: HandleTable<Question>;
  #out: Outbound;
  #severed: SessionSeveredError | undefined;
  #decodeRecord = (rec: SyrupRecord) => this.#decodeDesc(rec);
  /** fromSyrup's options for every op:deliver, made once. */
  #argsOptions = { decodeRecord: this.#decodeRecord, path: "op:deliver args" };

  constructor(options: EngineOptions) {
    this.#o = options;
    const questions = options.registry.handles<Question>(
      `${options.kind}.questions`,
    );
    this.#questions = questions;
    this.#imports = new Imports({
      dialect: options.dialect,
      send: options.send,
      finalizer: options.finalizer,
      releaseQuestion: (q) => questions.release(q),
      clock: options.clock,
    });
    this.#out = new Outbound({
      host: options.host,
      dialect: options.dialect,
      send: options.send,
      exports: this.#exports,
      imports: this.#imports,
      questions,
      encodeForeign: (value) =>
        value === bootstrapMarker
          ? ops.descImportObject(BOOTSTRAP_POS)
          : options.encodeForeign?.(value),
    });
  }

  /** A presence for the peer's bootstrap object (its export 0). */
  bootstrap(): object {
    return this.#out.presence(BOOTSTRAP, "object");
  }

  /** `method(args)` on the peer's bootstrap object, as a question. */
  callBootstrap(method: string, args: unknown[]): Promise<unknown> {
    return this.#out.call(ops.descExport(BOOTSTRAP), method, args);
  }

  /** `method(args)` on the peer's bootstrap object, no answer wanted. */
  sendBootstrap(method: string, args: unknown[]): void {
    this.#out.handler(ops.descExport(BOOTSTRAP))
      .sendOnly(bootstrapMarker, method, args);
  }

  /** The descriptor naming `value` on the wire, if it is our presence. */
  descriptorOf(value: object): SyrupValue | undefined {
    return this.#out.descriptorOf(value);
  }

  /** Sends pending op:gc-exports / op:gc-answers (normally at microtask end). */
  flushGc(): void {
    this.#imports.flush();
  }

  // ---- Incoming operations ----

  /** Handles one operation of an open session; ProtocolViolationError aborts. */
  handle(op: ops.Operation): void {
    switch (op.type) {
      case "op:deliver":
        return this.#deliver(op);
      case "op:listen": {
        const target = this.#target(op.to);
        const listener = this.#imports.pin(op.listenDesc);
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
      : this.#imports.pin(op.resolveMeDesc);
    const args = fromSyrup(op.args, this.#argsOptions) as unknown[];
    if (target instanceof Resolver) {
      target.settle(this.#resolution(args));
      // Telling a resolver answers nothing, but an answer position given
      // with it is still claimed: the peer may pipeline on it or free it.
      const done = Promise.resolve();
      if (op.answerPos !== false) this.#setAnswer(op.answerPos, done);
      if (resolver !== undefined) this.#settleTo(done, resolver);
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
    if (op.answerPos !== false) {
      // With a resolver the report below observes a rejection already.
      this.#setAnswer(op.answerPos, answer, resolver === undefined);
    }
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

  #setAnswer(
    pos: ops.TargetDesc["position"],
    answer: Promise<unknown>,
    unobserved = true,
  ): void {
    // Observed by whoever listens; never unhandled.
    if (unobserved) answer.catch(noop);
    this.#answers.set(pos as never, answer);
  }

  /** Reports `promise`'s settlement to the peer's resolver, then unpins it. */
  #settleTo(promise: Promise<unknown>, resolver: ImportEntry): void {
    const report = (kind: symbol, value: unknown) => {
      if (this.#severed) return;
      // Unpinning below releases the resolver (op:gc-exports). Queued
      // before the send, a GC flush that is not held back by the pacing
      // (imports.ts) runs ahead of the transport's write, so the release
      // shares the resolution's write instead of a second one.
      this.#imports.queueFlush();
      let wire: SyrupValue;
      try {
        wire = this.#out.encode([kind, value]);
      } catch (error) {
        wire = this.#out.encode([
          BREAK,
          error instanceof Error ? error : new Error(),
        ]);
      }
      this.#out.sendOnly(ops.descExport(resolver.pos), wire as SyrupValue[]);
      this.#imports.unpin(resolver);
    };
    promise.then((v) => report(FULFILL, v), (e) => report(BREAK, e));
  }

  /** A record argument: one of the descriptors, or a handoff's record. */
  #decodeDesc(rec: SyrupRecord): unknown {
    const label = typeof rec.label === "symbol" ? Symbol.keyFor(rec.label) : "";
    switch (label) {
      case "desc:import-object":
      case "desc:import-promise": {
        const d = ops.readImport(rec, "argument");
        const kind = d.type === "desc:import-object" ? "object" : "promise";
        const presence = this.#out.presence(d.position, kind);
        this.#imports.get(d.position)!.count++;
        return presence;
      }
      case "desc:export":
      case "desc:answer":
        return this.#target(ops.readTarget(rec, "argument"));
    }
    const foreign = this.#o.decodeForeign?.(rec);
    return foreign === undefined ? NOT_HANDLED : foreign;
  }

  // ---- Severance and invariants ----

  /** Breaks every unresolved promise of the session with `error`; idempotent. */
  sever(error: SessionSeveredError): void {
    if (this.#severed) return;
    this.#severed = error;
    this.#out.sever(error);
    this.#o.registry.dropHandles(this.#questions.kind);
    this.#imports.sever(error);
    this.#answers.clear();
    this.#exports.clear();
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
      imports: this.#imports.size,
      questions: this.#questions.size,
      answers: this.#answers.size,
    };
  }

  /** Asserts internal invariants (capnp-rpc's check_finished). */
  check(): void {
    this.#exports.check();
    this.#imports.check();
    for (const [, q] of this.#questions.entries()) {
      if (q.state === "pending" && this.#severed) {
        throw new Error("Pending question after severance");
      }
    }
  }
}
