/**
 * Domain errors of the protocol layer, declared in one place.
 *
 * STYLE.md "Errors": caller mistakes use the built-in TypeError / RangeError /
 * SyntaxError; the conditions a caller catches and acts on get a class here,
 * each with a stable string `code` that survives refactors of the message.
 * The CapTP session uses `MalformedValueError` to decide to send `op:abort`,
 * and application code sees `RemoteError` when a promise breaks with a
 * `<desc:error ...>` from the peer (Model.md "Error").
 *
 * Extend by adding a subclass of `ProtocolError` with a new `code`; never
 * reuse or rename a code.
 */

import { SyrupRecord } from "./syrup/value.ts";

/** Base class: every protocol-layer domain error has a stable `code`. */
export abstract class ProtocolError extends Error {
  abstract readonly code: string;
}

/**
 * A value that decoded as Syrup but breaks the OCapN model or a record's
 * shape (a struct with a non-string key, an unknown record, a locator with a
 * field of the wrong type). Raised on input from the peer; `path` says where
 * in the value it was found, e.g. `value[2].hints`.
 */
export class MalformedValueError extends ProtocolError {
  readonly code = "OCAPN_MALFORMED_VALUE";
  readonly path: string;
  constructor(message: string, options: { path: string }) {
    super(`${message} at ${options.path}`);
    this.name = "MalformedValueError";
    this.path = options.path;
  }
}

/**
 * An error value received from the peer (`<desc:error message>`). The
 * message is whatever the peer chose to reveal; nothing else crosses.
 */
export class RemoteError extends ProtocolError {
  readonly code = "OCAPN_REMOTE_ERROR";
  constructor(message: string) {
    super(message);
    this.name = "RemoteError";
  }
}

const MAX_QUOTE = 40;

/**
 * A short rendering of a value for error messages ("the wrong value
 * quoted"): it never stringifies containers or user objects, so a message
 * stays a few dozen characters and cannot echo a secret-bearing payload.
 */
export function quote(value: unknown): string {
  switch (typeof value) {
    case "string": {
      const s = value.length > MAX_QUOTE
        ? value.slice(0, MAX_QUOTE) + "..."
        : value;
      return JSON.stringify(s);
    }
    case "bigint":
      return `${value}n`;
    case "number":
    case "boolean":
    case "undefined":
      return Object.is(value, -0) ? "-0" : String(value);
    case "symbol": {
      const name = Symbol.keyFor(value);
      return name === undefined ? "an unregistered symbol" : `'${name}`;
    }
    case "function":
      return "a function";
    default:
      break;
  }
  if (value === null) return "null";
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Map) return `a dictionary of ${value.size}`;
  if (value instanceof Set) return `a set of ${value.size}`;
  if (value instanceof SyrupRecord) {
    const label = typeof value.label === "symbol" ? quote(value.label) : "?";
    return `a record <${label} ...>`;
  }
  if (value instanceof Promise) return "a promise";
  const proto = Object.getPrototypeOf(value);
  const name = proto?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `a ${name}`
    : "an object";
}
