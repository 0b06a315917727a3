/**
 * The harness side of tests/netlayers/websocket_hostile_test.ts: a raw
 * client socket that records what it gets, an observer of the events a
 * victim connection delivers, and the rule for which errors the layer may
 * report. The frames themselves come from _hostile_websocket.ts.
 */

import assert from "node:assert/strict";
import type { Connection, Netlayer } from "../../netlayers/types.ts";
import { ConnectionClosedError } from "../../netlayers/errors.ts";
import { type Frame, showFrame } from "./_hostile_websocket.ts";

/** Lets the sockets' events run until `done()` holds; fails after many turns. */
export async function until(what: string, done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn > 2000) throw new Error(`Never settled: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** A raw client socket that records every frame it gets. */
export class RawClient {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<CloseEvent>;
  isClosed = false;
  weClosed = false;
  #log: string[];
  constructor(url: string, log: string[]) {
    this.#log = log;
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) =>
      this.frames.push(
        typeof e.data === "string" ? e.data : new Uint8Array(e.data),
      );
    this.closed = new Promise((resolve) =>
      this.ws.onclose = (e) => {
        this.isClosed = true;
        resolve(e);
      }
    );
  }
  opened(): Promise<unknown> {
    return new Promise((resolve) => this.ws.onopen = resolve);
  }
  send(what: string, frame: Frame): void {
    this.#log.push(`${what}: ${showFrame(frame)}`);
    if (!this.isClosed) this.ws.send(frame);
  }
  close(): void {
    this.#log.push("client closes");
    this.weClosed = true;
    this.ws.close();
  }
  /** Until `n` frames have come or the socket closed. */
  frame(n: number): Promise<void> {
    return until(`frame ${n}`, () => this.frames.length >= n || this.isClosed);
  }
}

/** `netlayer` as the node sees it, each accepted connection observed. */
export function observing(netlayer: Netlayer, seen: Observed[]): Netlayer {
  return {
    transport: netlayer.transport,
    location: netlayer.location,
    connect: (peer) => netlayer.connect(peer),
    onAccept: (handler) =>
      netlayer.onAccept((c: Connection) => {
        seen.push(observe(c));
        handler(c);
      }),
    close: () => netlayer.close(),
  };
}

export async function checkObserved(seen: Observed[]): Promise<void> {
  for (const o of seen) {
    const reason = await o.closeReason;
    for (const error of o.errors) assert.equal(badError(error), undefined);
    // The node closes with its abort reason as a plain Error.
    if (reason && reason.constructor !== Error) {
      assert.equal(badError(reason), undefined);
    }
    assert.doesNotMatch(reason?.message ?? "", /internal/i);
    assert.equal(o.late, 0, "events after close");
  }
}

/** What the victim's side of one connection reported. */
export interface Observed {
  errors: Error[];
  closeReason: Promise<Error | undefined>;
  /** Events delivered after `close` (must stay 0). */
  late: number;
}

/**
 * Wraps `connection.attach` so the test sees the events its consumer
 * (the node, or nobody) is given, without changing them.
 */
export function observe(connection: Connection): Observed {
  let closed!: (reason: Error | undefined) => void;
  const seen: Observed = {
    errors: [],
    closeReason: new Promise((resolve) => closed = resolve),
    late: 0,
  };
  let over = false;
  const attach = connection.attach.bind(connection);
  connection.attach = (events) =>
    attach({
      message(value) {
        if (over) seen.late++;
        events.message(value);
      },
      error(error) {
        if (over) seen.late++;
        seen.errors.push(error);
        events.error(error);
      },
      close(reason) {
        if (over) seen.late++;
        over = true;
        closed(reason);
        events.close(reason);
      },
    });
  return seen;
}

/**
 * Why an observed error is not one the layer may give: the framing's own
 * refusals are SyntaxError (decoder), RangeError (over maxLength) and
 * TypeError (text frame); a close reason is ours, the peer's (typed) or
 * the consumer's. Undefined when it is fine.
 */
export function badError(error: Error): string | undefined {
  if (/internal/i.test(error.message)) {
    return `internal error: ${error.message}`;
  }
  if (error instanceof SyntaxError) return undefined;
  if (error instanceof RangeError && /exceeds maxLength/.test(error.message)) {
    return undefined;
  }
  if (error instanceof TypeError && /^Text frame/.test(error.message)) {
    return undefined;
  }
  if (error instanceof ConnectionClosedError) return undefined;
  return `${error.name}: ${error.message}`;
}
