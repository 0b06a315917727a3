/**
 * `fromSyrup`: Syrup values from the peer to OCapN values (Model.md), the
 * mapping documented in model.ts. Everything that is valid Syrup but not an
 * OCapN value is refused here so the CapTP layer can abort on it.
 * Locator records become the locator shapes of locator.ts, the inverse of
 * `locatorToSyrup`, so a sturdyref passed on leaves as it came.
 */

import { SyrupRecord, type SyrupValue } from "./syrup/value.ts";
import { MalformedValueError, quote, RemoteError } from "./errors.ts";
import { peerFromSyrup, sturdyRefFromSyrup } from "./locator.ts";
import {
  ERROR,
  NOT_HANDLED,
  NULL,
  pathAt,
  TAGGED,
  Tagged,
  VOID,
  type Walk,
  walkOf,
} from "./_model_core.ts";

export interface FromSyrupOptions {
  /**
   * Value for a record other than tagged/error/null/void and the two
   * locators, or NOT_HANDLED.
   */
  decodeRecord?(record: SyrupRecord): unknown;
  path?: string;
  maxDepth?: number;
}

const STURDYREF = Symbol.for("ocapn-sturdyref");
const PEER = Symbol.for("ocapn-peer");

interface Decoder extends Walk {
  readonly decodeRecord: FromSyrupOptions["decodeRecord"];
}

/**
 * Convert a Syrup value from the peer into a passable value. Anything that
 * is valid Syrup but not an OCapN value (a set, a struct key that is not a
 * string, an unknown or misshapen record) is a MalformedValueError.
 */
export function fromSyrup(
  value: SyrupValue,
  options: FromSyrupOptions = {},
): unknown {
  const dec: Decoder = {
    ...walkOf(options),
    decodeRecord: options.decodeRecord,
  };
  return decodeValue(value, 0, dec);
}

function malformed(dec: Walk, depth: number, message: string): never {
  throw new MalformedValueError(message, { path: pathAt(dec, depth) });
}

function decodeValue(value: SyrupValue, depth: number, dec: Decoder): unknown {
  switch (typeof value) {
    case "boolean":
    case "bigint":
    case "number":
    case "string":
      return value;
    case "symbol":
      if (Symbol.keyFor(value) === undefined) {
        malformed(
          dec,
          depth,
          "Expected a selector, got an unregistered symbol",
        );
      }
      return value;
  }
  if (value instanceof Uint8Array) return value;
  if (depth >= dec.maxDepth) {
    malformed(dec, depth, `Value nested deeper than ${dec.maxDepth}`);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      dec.keys[depth] = i;
      out[i] = decodeValue(value[i], depth + 1, dec);
    }
    return out;
  }
  if (value instanceof Map) return decodeStruct(value, depth, dec);
  if (value instanceof SyrupRecord) return decodeRecord(value, depth, dec);
  if (value instanceof Set) {
    malformed(dec, depth, "A Syrup set is not an OCapN value");
  }
  return malformed(dec, depth, `Not a Syrup value: ${quote(value)}`);
}

function decodeStruct(
  map: Map<SyrupValue, SyrupValue>,
  depth: number,
  dec: Decoder,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of map) {
    if (typeof key !== "string") {
      malformed(dec, depth, `Struct key must be a string, got ${quote(key)}`);
    }
    dec.keys[depth] = key;
    const decoded = decodeValue(item, depth + 1, dec);
    // A plain assignment to "__proto__" would set the prototype instead.
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: decoded,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = decoded;
    }
  }
  return out;
}

function decodeRecord(rec: SyrupRecord, depth: number, dec: Decoder): unknown {
  const { label, fields } = rec;
  const arity = (n: number, name: string) => {
    if (fields.length !== n) {
      malformed(
        dec,
        depth,
        `Record <${name}> takes ${n} fields, got ${fields.length}`,
      );
    }
  };
  if (label === TAGGED) {
    arity(2, "desc:tagged");
    const tag = fields[0];
    const name = typeof tag === "symbol" ? Symbol.keyFor(tag) : tag;
    if (typeof name !== "string") {
      malformed(
        dec,
        depth,
        `Tag must be a symbol or string, got ${quote(tag)}`,
      );
    }
    dec.keys[depth] = "value";
    return new Tagged(name, decodeValue(fields[1], depth + 1, dec));
  }
  if (label === ERROR) {
    arity(1, "desc:error");
    const message = fields[0];
    if (typeof message !== "string") {
      malformed(
        dec,
        depth,
        `Error message must be a string, got ${quote(message)}`,
      );
    }
    return new RemoteError(message);
  }
  if (label === NULL) {
    arity(0, "null");
    return null;
  }
  if (label === VOID) {
    arity(0, "void");
    return undefined;
  }
  if (label === STURDYREF) {
    return sturdyRefFromSyrup(rec, { path: pathAt(dec, depth) });
  }
  if (label === PEER) return peerFromSyrup(rec, { path: pathAt(dec, depth) });
  const decoded = dec.decodeRecord === undefined
    ? NOT_HANDLED
    : dec.decodeRecord(rec);
  if (decoded === NOT_HANDLED) {
    malformed(dec, depth, `Unknown record label ${quote(label)}`);
  }
  return decoded;
}
