/**
 * One CapTP session over one connection (CapTP draft, "op:start-session",
 * "op:abort"; shared/ocapn-notes.md "CapTP"), driven by `handleMessage` and
 * emitting through an injected `send`. No sockets, no timers: time is the
 * injected Clock, crypto the injected CryptoProvider.
 *
 * Why it exists: it owns the handshake and the lifecycle (session_machine.ts)
 * and turns every kind of bad input (undecodable bytes, an unknown
 * operation, a bad position, an oversized message, a message before
 * op:start-session) into op:abort with a reason and a close, leaving the vat
 * and its other sessions alone. Open-session work is in engine.ts.
 */

import type { Clock } from "../clock.ts";
import { MachineDriver } from "../machine_driver.ts";
import type { CryptoProvider } from "../crypto.ts";
import type { Registry } from "../registry.ts";
import { decode } from "../syrup/decode.ts";
import { encode } from "../syrup/encode.ts";
import type { SyrupRecord, SyrupValue } from "../syrup/value.ts";
import { type OCapNPeer, peerFromSyrup, peerToSyrup } from "../locator.ts";
import { MalformedValueError } from "../errors.ts";
import { ProtocolViolationError, SessionSeveredError } from "./errors.ts";
import {
  type SessionContext,
  type SessionEvent,
  sessionMachine,
  type SessionState,
} from "./session_machine.ts";
import * as ops from "./operations.ts";
import * as keys from "./keys.ts";
import { Engine } from "./engine.ts";
import type { CapTPHost, FinalizerFactory } from "./host.ts";
import { type Dialect, type DialectName, DIALECTS } from "./_wire.ts";
import type { SessionDirectory } from "./directory.ts";

export const CAPTP_VERSION = "1.0";

export interface SessionOptions {
  /** Writes one encoded message to the connection. */
  send(bytes: Uint8Array): void;
  /** Asks the transport to close; it then calls `connectionClosed()`. */
  close?(reason: string): void;
  clock: Clock;
  crypto: CryptoProvider;
  host: CapTPHost;
  registry: Registry;
  directory: SessionDirectory;
  /** Our own peer locator, signed in op:start-session. */
  location: OCapNPeer;
  /** Set when we dialled: the peer we meant to reach (crossed hellos). */
  dialed?: OCapNPeer;
  dialect?: DialectName | Dialect;
  /** Larger messages abort the session (default 1 MiB). */
  maxMessageBytes?: number;
  handshakeTimeoutMs?: number;
  abortGraceMs?: number;
  finalizer?: FinalizerFactory;
  onClose?(reason: string): void;
}

export class CapTPSession {
  /** The lifecycle with this class's actions, each run on its own session. */
  static #lifecycle = sessionMachine.provide({
    actions: {
      sendHello: ({ context }) => owner(context).#sendHello(),
      opened: ({ context }) => owner(context).#opened(),
      sendAbort: ({ context }) =>
        owner(context).#write(ops.opAbort(context.reason!)),
      sever: ({ context }) => owner(context).#sever(context.reason!),
      closeConnection: ({ context }) =>
        owner(context).#o.close?.(context.reason!),
      finish: ({ context }) => owner(context).#finish(context.reason!),
    },
  });
  #o: SessionOptions;
  #machine: MachineDriver<typeof sessionMachine>;
  #state: SessionState = "connecting";
  #engine: Engine | undefined;
  #severed: SessionSeveredError | undefined;
  #code: number;
  #keys;
  #open = Promise.withResolvers<void>();
  #closed = Promise.withResolvers<string>();
  #dialect: Dialect;
  #max: number;
  readonly localSideId: Uint8Array;
  peer: OCapNPeer | undefined;
  /** The peer's location exactly as its op:start-session spelled it. */
  peerLocation: SyrupValue | undefined;
  peerSideId: Uint8Array | undefined;
  peerPublicKey: Uint8Array | undefined;
  id: Uint8Array | undefined;

  constructor(options: SessionOptions) {
    this.#o = options;
    const d = options.dialect ?? "draft";
    this.#dialect = typeof d === "string" ? DIALECTS[d] : d;
    this.#max = options.maxMessageBytes ?? 1024 * 1024;
    this.#keys = keys.makeSessionKeys(
      options.crypto,
      peerToSyrup(options.location),
    );
    this.localSideId = keys.publicId(options.crypto, this.#keys.keys.publicKey);
    this.#code = options.registry.mint("captp.session", this);
    this.#open.promise.catch(() => {});
    this.#machine = new MachineDriver(CapTPSession.#lifecycle, {
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
      abortGraceMs: options.abortGraceMs ?? 5_000,
      owner: this,
    }, {
      clock: options.clock,
      observe: (snapshot) => this.#state = snapshot.value as SessionState,
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  get dialed(): boolean {
    return this.#o.dialed !== undefined;
  }

  /** Sends our op:start-session; call once the connection is up. */
  start(): void {
    if (this.#state !== "connecting") return;
    if (this.#o.dialed) this.#o.directory.dialing(this, this.#o.dialed);
    this.#sendHello();
    this.#machine.send({ type: "hello.sent" });
  }

  /** Resolves when the session opens; rejects if it closes first. */
  whenOpen(): Promise<void> {
    return this.#open.promise;
  }

  /** Resolves with the reason once the session is closed. */
  whenClosed(): Promise<string> {
    return this.#closed.promise;
  }

  /** One message from the peer: encoded bytes or an already decoded value. */
  handleMessage(input: Uint8Array | SyrupValue): void {
    const state = this.#state;
    if (state === "aborting" || state === "closed") return;
    let op: ops.Operation;
    try {
      if (input instanceof Uint8Array) {
        if (input.length > this.#max) {
          return this.abort(
            `message of ${input.length} bytes exceeds ${this.#max}`,
          );
        }
        input = decode(input);
      }
      op = ops.readOperation(input);
    } catch (error) {
      return this.abort(reasonOf(error, "undecodable message"));
    }
    if (op.type === "op:abort") {
      return this.#send({ type: "abort.received", reason: op.reason });
    }
    if (op.type === "op:start-session") return this.#hello(op);
    if (state !== "open") return this.#send({ type: "message" });
    try {
      this.#engine!.handle(op);
    } catch (error) {
      this.abort(reasonOf(error, "internal error"));
    }
  }

  /** The transport closed (either side); idempotent. */
  connectionClosed(reason = "connection closed"): void {
    this.#send({ type: "connection.closed", reason });
  }

  /** Aborts the session: op:abort to the peer, then close; idempotent. */
  abort(reason: string): void {
    this.#send({ type: "abort.local", reason });
  }

  /** The peer's bootstrap object (its export 0). */
  get bootstrap(): object {
    if (this.#engine === undefined) {
      throw new TypeError(`Session is ${this.#state}, not open`);
    }
    return this.#engine.bootstrap();
  }

  /** `fetch` on the peer's bootstrap object. */
  fetch(swissNum: Uint8Array): Promise<unknown> {
    if (this.#engine === undefined) {
      return Promise.reject(new TypeError(`Session is ${this.#state}`));
    }
    return this.#engine.callBootstrap("fetch", [swissNum]);
  }

  /** `method(args)` on the peer's bootstrap object (handoffs use it). */
  callBootstrap(method: string, args: unknown[]): Promise<unknown> {
    if (this.#engine === undefined || this.#state !== "open") {
      return Promise.reject(
        new SessionSeveredError(`session is ${this.#state}`),
      );
    }
    return this.#engine.callBootstrap(method, args);
  }

  /** The same with no answer wanted; a no-op unless open. */
  sendBootstrap(method: string, args: unknown[]): void {
    if (this.#state === "open") this.#engine?.sendBootstrap(method, args);
  }

  /** The descriptor naming `value` here, if it is this session's presence. */
  descriptorOf(value: object): SyrupValue | undefined {
    return this.#engine?.descriptorOf(value);
  }

  /** Signs with our key of this session (handoff certificates). */
  sign(bytes: Uint8Array): Uint8Array {
    if (this.#state !== "open") {
      throw new SessionSeveredError(`session is ${this.#state}`);
    }
    return this.#o.crypto.ed25519.sign(this.#keys.keys.secretKey, bytes);
  }

  /** Table sizes (the bootstrap export and import excluded). */
  stats() {
    return this.#engine?.stats() ??
      { exports: 0, imports: 0, questions: 0, answers: 0 };
  }

  /** Asserts internal invariants; throws an Error naming the first broken one. */
  check(): void {
    this.#engine?.check();
    if (this.#state === "closed" && this.#o.registry.has(this.#code)) {
      throw new Error("Closed session still holds its registry entry");
    }
  }

  /** Sends pending GC messages now instead of at the end of the microtask. */
  flushGc(): void {
    this.#engine?.flushGc();
  }

  #send(event: SessionEvent): void {
    if (this.#state === "closed") return;
    this.#machine.send(event);
  }

  #write(record: SyrupRecord): void {
    this.#o.send(encode(record));
  }

  #sendHello(): void {
    this.#write(ops.opStartSession(CAPTP_VERSION, {
      pubkey: this.#keys.pubkey,
      location: peerToSyrup(this.#o.location),
      signature: this.#keys.signature,
    }));
  }

  #hello(op: Extract<ops.Operation, { type: "op:start-session" }>): void {
    if (this.#state === "open") {
      return this.#send({ type: "hello.accepted" }); // a second one: abort
    }
    const reject = (reason: string) =>
      this.#send({ type: "hello.rejected", reason });
    if (op.captpVersion !== CAPTP_VERSION) {
      return reject(`unsupported captp-version "${op.captpVersion}"`);
    }
    let key: Uint8Array, sig: Uint8Array;
    try {
      key = keys.publicKeyFromSyrup(op.sessionPubkey);
      sig = keys.signatureFromSyrup(op.acceptableLocationSig);
      this.peer = peerFromSyrup(op.acceptableLocation);
    } catch (error) {
      return reject(reasonOf(error, "malformed op:start-session"));
    }
    const location = op.acceptableLocation;
    this.peerLocation = location;
    if (
      !keys.verifyLocation(this.#o.crypto, key, { location, signature: sig })
    ) {
      return reject("location signature does not verify");
    }
    this.peerPublicKey = key;
    this.peerSideId = keys.publicId(this.#o.crypto, key);
    this.id = keys.sessionId(this.#o.crypto, [
      this.localSideId,
      this.peerSideId,
    ]);
    const refusal = this.#o.directory.admit(this);
    if (refusal !== undefined) return reject(refusal);
    this.#send({ type: "hello.accepted" });
  }

  #opened(): void {
    this.#engine = new Engine({
      host: this.#o.host,
      registry: this.#o.registry,
      clock: this.#o.clock,
      dialect: this.#dialect,
      send: (record) => this.#write(record),
      swiss: this.#o.directory.swiss,
      gifts: this.#o.directory.gifts,
      finalizer: this.#o.finalizer,
      kind: `captp.${this.#code}`,
      session: this,
      encodeForeign: (value) =>
        this.#o.directory.handoffs?.encodeForeign(this, value),
      decodeForeign: (record) =>
        this.#o.directory.handoffs?.decodeForeign(this, record),
    });
    this.#o.directory.opened(this);
    this.#open.resolve();
  }

  /** One error per session: what its broken promises and whenOpen() reject with. */
  #sever(reason: string): void {
    this.#severed = new SessionSeveredError(reason);
    this.#engine?.sever(this.#severed);
    this.#keys.keys.secretKey.fill(0);
  }

  #finish(reason: string): void {
    this.#o.directory.removed(this);
    this.#o.registry.release(this.#code);
    this.#open.reject(this.#severed ?? new SessionSeveredError(reason));
    this.#closed.resolve(reason);
    this.#o.onClose?.(reason);
  }
}

const owner = (context: SessionContext) => context.owner as CapTPSession;

function reasonOf(error: unknown, fallback: string): string {
  if (
    error instanceof ProtocolViolationError ||
    error instanceof MalformedValueError || error instanceof SyntaxError ||
    error instanceof RangeError
  ) return error.message;
  return fallback;
}
