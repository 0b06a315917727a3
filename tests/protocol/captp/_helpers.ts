/**
 * Additions to _harness.ts for tests that assert the exact wire: a readable
 * printer for Syrup values, a settle that records every message in full,
 * and a raw peer (the test itself speaks CapTP to one real session) for
 * inputs our own engine never emits (op:get, op:listen with 2 fields, a
 * peer's op:gc-exports at a chosen moment).
 */

import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { encode } from "../../../protocol/syrup/encode.ts";
import { decode } from "../../../protocol/syrup/decode.ts";
import {
  record,
  SyrupRecord,
  type SyrupValue,
} from "../../../protocol/syrup/value.ts";
import { type OCapNPeer, peerToSyrup } from "../../../protocol/locator.ts";
import * as keys from "../../../protocol/captp/keys.ts";
import { opStartSession } from "../../../protocol/captp/operations.ts";
import type { CapTPSession } from "../../../protocol/captp/session.ts";
import type { DialectName } from "../../../protocol/captp/_wire.ts";
import type { Clock } from "../../../protocol/clock.ts";
import { GC_INTERVAL_MS } from "../../../protocol/captp/imports.ts";
import { finish, Harness, makeVat, type Vat } from "./_harness.ts";

// ---- Printing ----

const printable = /^[\x20-\x7e]*$/;

/**
 * One line per value, in a Syrup-like notation: `<label field ...>`,
 * `'symbol`, `"string"`, `b"bytes"` (or `0x..` when not ASCII), integers
 * bare, floats with a trailing `f`, `[list]`, `{key: value}`, `#{set}`.
 */
export function show(value: SyrupValue): string {
  if (value instanceof SyrupRecord) {
    const label = typeof value.label === "symbol"
      ? Symbol.keyFor(value.label)!
      : show(value.label);
    return `<${[label, ...value.fields.map(show)].join(" ")}>`;
  }
  if (value instanceof Uint8Array) {
    const text = new TextDecoder().decode(value);
    return printable.test(text)
      ? `b${JSON.stringify(text)}`
      : `0x${[...value].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  if (Array.isArray(value)) return `[${value.map(show).join(" ")}]`;
  if (value instanceof Map) {
    return `{${
      [...value].map(([k, v]) => `${show(k)}: ${show(v)}`).join(", ")
    }}`;
  }
  if (value instanceof Set) return `#{${[...value].map(show).join(" ")}}`;
  switch (typeof value) {
    case "symbol":
      return `'${Symbol.keyFor(value)}`;
    case "string":
      return JSON.stringify(value);
    case "number":
      return `${value}f`;
    default:
      return String(value);
  }
}

/** Decodes and prints one encoded message. */
export function showBytes(bytes: Uint8Array): string {
  return show(decode(bytes));
}

/** Like `Harness.settle`, recording each message as `from: <op ...>`. */
export async function settleWire(
  h: Harness,
  log: string[],
  limit = 10_000,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await h.ticks();
    const next = h.queue[0];
    if (next?.bytes) log.push(`${next.from}: ${showBytes(next.bytes)}`);
    if (!h.pump() && await h.quiet()) return;
  }
  throw new Error("Harness did not settle");
}

// ---- Writing messages by hand ----

export const msg = (label: string, ...fields: SyrupValue[]) =>
  encode(record(label, ...fields));
export const descExport = (n: number) => record("desc:export", BigInt(n));
export const descAnswer = (n: number) => record("desc:answer", BigInt(n));
export const importObject = (n: number) =>
  record("desc:import-object", BigInt(n));
export const sym = (name: string) => Symbol.for(name);
export const bytes = (text: string) => new TextEncoder().encode(text);

/** A valid op:start-session for `location`, signed by a fresh key. */
export function hello(location: OCapNPeer): Uint8Array {
  const loc = peerToSyrup(location);
  const kp = nativeCrypto.ed25519.generateKeyPair();
  return encode(opStartSession("1.0", {
    pubkey: keys.publicKeyToSyrup(kp.publicKey),
    location: loc,
    signature: keys.signatureToSyrup(
      nativeCrypto.ed25519.sign(kp.secretKey, keys.locationSigPayload(loc)),
    ),
  }));
}

/**
 * The test as a CapTP peer ("mallory") of bob's real session `b`: `say`
 * feeds bob bytes, `replies` returns (and forgets) what bob wrote back,
 * printed with `show`. Bob's own op:start-session is consumed by `open`.
 */
export class RawPeer {
  readonly h = new Harness();
  readonly mallory: Vat = makeVat("mallory");
  readonly bob: Vat;
  readonly b: CapTPSession;
  #stand: CapTPSession;

  private constructor(dialect?: DialectName, makeBob?: (clock: Clock) => Vat) {
    this.bob = makeBob?.(this.h.clock) ?? makeVat("bob");
    const [a, b] = this.h.connect(this.mallory, this.bob, {
      start: false,
      dialect,
    });
    a.abort("stand-in"); // the real peer is the test
    this.h.queue.length = 0;
    this.#stand = a;
    this.b = b;
  }

  /** `makeBob` makes bob's vat on the harness clock (default `makeVat`). */
  static async open(
    options: { dialect?: DialectName; makeBob?: (clock: Clock) => Vat } = {},
  ) {
    const peer = new RawPeer(options.dialect, options.makeBob);
    peer.b.start();
    peer.b.handleMessage(hello(peer.mallory.location));
    const greeting = await peer.replies();
    assert.equal(greeting.length, 1);
    assert.match(greeting[0], /^<op:start-session "1.0" /);
    assert.equal(peer.b.state, "open");
    return peer;
  }

  say(...messages: Uint8Array[]): void {
    for (const m of messages) this.b.handleMessage(m);
  }

  /** What bob wrote, GC messages included (one GC interval is let pass). */
  async replies(): Promise<string[]> {
    await this.h.ticks();
    this.h.clock.advance(GC_INTERVAL_MS);
    await this.h.ticks();
    const out: string[] = [];
    for (let i = 0; i < this.h.queue.length; i++) {
      const w = this.h.queue[i];
      if (w.to !== this.#stand) continue;
      out.push(w.bytes ? showBytes(w.bytes) : "(close)");
      this.h.queue.splice(i--, 1);
    }
    return out;
  }

  /** `say`, then the replies. */
  async exchange(...messages: Uint8Array[]): Promise<string[]> {
    this.say(...messages);
    return await this.replies();
  }

  async done(): Promise<void> {
    await finish(this.h, [this.mallory, this.bob]);
  }
}
