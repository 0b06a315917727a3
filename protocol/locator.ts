/**
 * OCapN locators: the peer locator and the sturdyref locator, as Syrup
 * records and as `ocapn://` URIs (Locators.md, draft-specifications/).
 *
 * Why it exists: a locator is how a vat names another vat in band (inside
 * op:start-session and handoff certificates) and out of band (a URI given to
 * a person). Records arrive from peers, so their readers refuse any other
 * shape with a MalformedValueError naming the field; URIs come from people,
 * so their parser throws SyntaxError naming what is wrong. Passed as data
 * (a sturdyref in op:deliver args, as the test suite's enlivener takes
 * one), a locator crosses as its record and comes back as the same shape:
 * `locatorToSyrup` out, `peerFromSyrup` / `sturdyRefFromSyrup` in.
 *
 *   <ocapn-peer transport designator hints>   transport: symbol without "."
 *                                             designator: string
 *                                             hints: struct of strings | false
 *   <ocapn-sturdyref <ocapn-peer ...> swiss-num>
 *   ocapn://<designator>.<transport>[/s/<swiss-num>][?key=value&...]
 */

import { SyrupRecord, type SyrupValue } from "./syrup/value.ts";
import { MalformedValueError, quote } from "./errors.ts";
import { checkPeer, setOwn } from "./_locator_uri.ts";

export {
  formatPeerUri,
  formatSturdyRefUri,
  formatUri,
  isSturdyRef,
  parsePeerUri,
  parseSturdyRefUri,
  parseUri,
} from "./_locator_uri.ts";

/** A peer locator. Two locators name the same peer when `samePeer` says so. */
export interface OCapNPeer {
  transport: string;
  designator: string;
  hints: Record<string, string>;
}

/** A sturdyref locator: a peer and the swiss number of one of its objects. */
export interface OCapNSturdyRef {
  peer: OCapNPeer;
  swissNum: Uint8Array;
}

const PEER = Symbol.for("ocapn-peer");
const STURDYREF = Symbol.for("ocapn-sturdyref");
const utf8 = new TextEncoder();

/** Locators.md: designator and transport decide; hints do not count. */
export function samePeer(a: OCapNPeer, b: OCapNPeer): boolean {
  return a.transport === b.transport && a.designator === b.designator;
}

/** `<ocapn-peer transport designator hints>`; hints `false` when empty. */
export function peerToSyrup(peer: OCapNPeer): SyrupRecord {
  checkPeer(peer);
  const keys = Object.keys(peer.hints);
  // Locators.md: "If no hints are used this field can be set to false";
  // Endo and Goblins emit false, so an empty struct never goes out.
  let hints: SyrupValue = false;
  if (keys.length !== 0) {
    const map = new Map<SyrupValue, SyrupValue>();
    for (const key of keys) map.set(key, peer.hints[key]);
    hints = map;
  }
  return new SyrupRecord(PEER, [
    Symbol.for(peer.transport),
    peer.designator,
    hints,
  ]);
}

/** `<ocapn-sturdyref <ocapn-peer ...> swiss-num>`, the swiss number as bytes. */
export function sturdyRefToSyrup(ref: OCapNSturdyRef): SyrupRecord {
  if (!(ref.swissNum instanceof Uint8Array)) {
    throw new TypeError(
      `Swiss number must be a Uint8Array, got ${quote(ref.swissNum)}`,
    );
  }
  // The draft says swiss-num is a string; the test suite, Goblins and the
  // bootstrap `fetch` use bytes, so bytes is what we emit (interop).
  return new SyrupRecord(STURDYREF, [peerToSyrup(ref.peer), ref.swissNum]);
}

const isPlain = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** Exactly these own keys, nothing more (symbols and hidden keys count). */
const hasExactly = (value: object, keys: readonly string[]) =>
  Reflect.ownKeys(value).length === keys.length &&
  keys.every((key) => Object.hasOwn(value, key));

function isPeerShaped(value: unknown): value is OCapNPeer {
  return isPlain(value) &&
    hasExactly(value, ["transport", "designator", "hints"]) &&
    typeof value.transport === "string" &&
    typeof value.designator === "string" && isPlain(value.hints);
}

/**
 * The record a locator travels as when it is passed as data (Locators.md,
 * the two "Syrup Serialization" sections; model.ts calls this for every
 * plain object). A locator is a plain object of exactly the `OCapNPeer` or
 * `OCapNSturdyRef` shape, the shape `peerFromSyrup`, `sturdyRefFromSyrup`
 * and the URI parsers return, so one read back is sent on unchanged.
 * Undefined for any other object; TypeError when the shape matches but a
 * field is wrong (say a transport with a ".").
 */
export function locatorToSyrup(value: object): SyrupRecord | undefined {
  // Two own-key probes keep the common struct on the fast path.
  if (Object.hasOwn(value, "swissNum")) {
    if (
      !isPlain(value) || !hasExactly(value, ["peer", "swissNum"]) ||
      !(value.swissNum instanceof Uint8Array) || !isPeerShaped(value.peer)
    ) return undefined;
    return sturdyRefToSyrup(value as unknown as OCapNSturdyRef);
  }
  if (Object.hasOwn(value, "designator") && isPeerShaped(value)) {
    return peerToSyrup(value);
  }
  return undefined;
}

function recordFields(
  value: SyrupValue,
  label: symbol,
  options: { arity: number; path: string },
): SyrupValue[] {
  const { arity, path } = options;
  if (!(value instanceof SyrupRecord) || value.label !== label) {
    throw new MalformedValueError(
      `Expected a <${Symbol.keyFor(label)}> record, got ${quote(value)}`,
      { path },
    );
  }
  if (value.fields.length !== arity) {
    throw new MalformedValueError(
      `Record <${
        Symbol.keyFor(label)
      }> takes ${arity} fields, got ${value.fields.length}`,
      { path },
    );
  }
  return value.fields;
}

/** Read `<ocapn-peer ...>` from the peer; MalformedValueError names the field. */
export function peerFromSyrup(
  value: SyrupValue,
  options: { path?: string } = {},
): OCapNPeer {
  const path = options.path ?? "ocapn-peer";
  const [transport, designator, hintsValue] = recordFields(value, PEER, {
    arity: 3,
    path,
  });
  const name = typeof transport === "symbol"
    ? Symbol.keyFor(transport)
    : undefined;
  if (name === undefined || name === "" || name.includes(".")) {
    throw new MalformedValueError(
      `Transport must be a symbol without ".", got ${quote(transport)}`,
      { path: `${path}.transport` },
    );
  }
  if (typeof designator !== "string" || designator === "") {
    throw new MalformedValueError(
      `Designator must be a non-empty string, got ${quote(designator)}`,
      { path: `${path}.designator` },
    );
  }
  const hints: Record<string, string> = {};
  if (hintsValue instanceof Map) {
    for (const [key, hint] of hintsValue) {
      // Struct keys are strings (Model.md); an older draft said symbols, so
      // both are read.
      const keyName = typeof key === "symbol" ? Symbol.keyFor(key) : key;
      if (typeof keyName !== "string") {
        throw new MalformedValueError(
          `Hint key must be a string, got ${quote(key)}`,
          { path: `${path}.hints` },
        );
      }
      if (typeof hint !== "string") {
        throw new MalformedValueError(
          `Hint value must be a string, got ${quote(hint)}`,
          { path: `${path}.hints.${keyName}` },
        );
      }
      setOwn(hints, keyName, hint);
    }
  } else if (hintsValue !== false) {
    throw new MalformedValueError(
      `Hints must be a struct or false, got ${quote(hintsValue)}`,
      { path: `${path}.hints` },
    );
  }
  return { transport: name, designator, hints };
}

/** Read `<ocapn-sturdyref ...>`; the swiss number may be bytes or a string. */
export function sturdyRefFromSyrup(
  value: SyrupValue,
  options: { path?: string } = {},
): OCapNSturdyRef {
  const path = options.path ?? "ocapn-sturdyref";
  const [peerValue, swiss] = recordFields(value, STURDYREF, { arity: 2, path });
  const peer = peerFromSyrup(peerValue, { path: `${path}.peer` });
  // The draft text says string, the suite and Goblins send bytes: accept both.
  if (typeof swiss === "string") return { peer, swissNum: utf8.encode(swiss) };
  if (swiss instanceof Uint8Array) return { peer, swissNum: swiss.slice() };
  throw new MalformedValueError(
    `Swiss number must be bytes or a string, got ${quote(swiss)}`,
    { path: `${path}.swissNum` },
  );
}
