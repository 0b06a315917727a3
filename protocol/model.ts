/**
 * The OCapN data model (Model.md) mapped onto TypeScript values, and the
 * walk that converts between them and Syrup values on every message.
 *
 * Why it exists: CapTP payloads (op:deliver arguments, answers, resolutions)
 * are OCapN values, not raw Syrup. This module is the one place that says
 * which JS value stands for which OCapN value; references are left to the
 * CapTP marshaller through two hooks (`encodeRef`, `decodeRecord`).
 *
 * | OCapN      | Syrup on the wire                 | TypeScript                      |
 * |------------|-----------------------------------|---------------------------------|
 * | Undefined  | `<void>`                          | `undefined`                     |
 * | Null       | `<null>`                          | `null`                          |
 * | Boolean    | `t` / `f`                         | `boolean`                       |
 * | Integer    | integer                           | `bigint` (never a number)       |
 * | Float64    | float64                           | `number` (so `1` is a float)    |
 * | String     | string                            | `string`                        |
 * | ByteArray  | bytes                             | `Uint8Array`                    |
 * | Selector   | symbol                            | registered symbol `selector(n)` |
 * | List       | list                              | `Array`                         |
 * | Struct     | dictionary with string keys       | plain object (proto Object/null)|
 * | Tagged     | `<desc:tagged tag value>`         | `Tagged` {tag: string, value}   |
 * | Sturdyref  | `<ocapn-sturdyref <ocapn-peer ...> swiss>` | `OCapNSturdyRef` (locator.ts) |
 * | Peer       | `<ocapn-peer transport designator hints>` | `OCapNPeer` (locator.ts) |
 * | Error      | `<desc:error message>`            | out: any `Error`; in: `RemoteError` |
 * | Remotable, Promise | descriptor from `encodeRef` | function, promise, class instance |
 *
 * Choices, following Endo's passStyle where it applies:
 * - Undefined and Null are the empty records `<void>` and `<null>`, as
 *   Goblins and Endo send them (not in the draft text).
 * - A Tagged's tag is a String in Model.md but a symbol on the wire in Endo
 *   and Goblins; we emit a symbol and accept a symbol or a string (interop).
 * - Errors: a local Error crosses as `<desc:error "...">` with a fixed opaque
 *   message (STYLE.md: leaking data is a security issue) unless it is a
 *   `RevealedError`, a `RemoteError` being passed on, or `revealError`
 *   chooses to reveal it. Incoming errors become `RemoteError`.
 * - Map, Set, Date, RegExp, ArrayBuffer and typed arrays other than
 *   Uint8Array are refused rather than silently turned into references.
 * - Struct key order and duplicate keys are the codec's job, not ours.
 * - Locators (Locators.md) are not Model.md values, but peers pass them as
 *   data (the test suite's enlivener takes a sturdyref). A plain object of
 *   exactly the `OCapNSturdyRef` or `OCapNPeer` shape is that locator, so
 *   it crosses as its record and reads back as the same shape; a struct
 *   of exactly that shape cannot be sent as a struct.
 */

import { SyrupRecord, type SyrupValue } from "./syrup/value.ts";
import { quote, RemoteError } from "./errors.ts";
import { locatorToSyrup } from "./locator.ts";
import {
  ERROR,
  NULL,
  OPAQUE_ERROR_MESSAGE,
  pathAt,
  RevealedError,
  TAGGED,
  Tagged,
  VOID,
  type Walk,
  walkOf,
} from "./_model_core.ts";

export {
  DEFAULT_MAX_DEPTH,
  NOT_HANDLED,
  OPAQUE_ERROR_MESSAGE,
  RevealedError,
  selector,
  selectorName,
  Tagged,
} from "./_model_core.ts";
export { fromSyrup, type FromSyrupOptions } from "./_from_syrup.ts";

/** Remotables and promises: what `encodeRef` turns into a descriptor. */
export type Reference = object;

/** What `toSyrup` accepts (documentation: `Reference` widens it to objects). */
export type Passable =
  | undefined
  | null
  | boolean
  | bigint
  | number
  | string
  | symbol
  | Uint8Array
  | readonly Passable[]
  | { readonly [key: string]: Passable }
  | Tagged
  | Error
  | Reference;

const NULL_RECORD = new SyrupRecord(NULL, []);
const VOID_RECORD = new SyrupRecord(VOID, []);

export interface ToSyrupOptions {
  /** Descriptor for a reference, or undefined when it cannot be passed. */
  encodeRef?(value: Reference): SyrupValue | undefined;
  /** Message to reveal for a local error; undefined keeps it opaque. */
  revealError?(error: Error): string | undefined;
  /** Name of the root in error messages, e.g. "op:deliver args". */
  path?: string;
  maxDepth?: number;
}

interface Encoder extends Walk {
  readonly encodeRef: ToSyrupOptions["encodeRef"];
  readonly revealError: ToSyrupOptions["revealError"];
}

/**
 * Convert a passable value to a Syrup value. TypeError for anything that
 * cannot be passed (and for references `encodeRef` declines), TypeError for
 * a cycle, RangeError past `maxDepth`.
 */
export function toSyrup(
  value: unknown,
  options: ToSyrupOptions = {},
): SyrupValue {
  const enc: Encoder = {
    ...walkOf(options),
    encodeRef: options.encodeRef,
    revealError: options.revealError,
  };
  return encodeValue(value, 0, enc);
}

// Cycle detection costs nothing on the normal path: a cycle is infinitely
// deep, so it is only looked for once the depth limit is reached.
function enter(enc: Walk, depth: number, container: unknown): void {
  if (depth >= enc.maxDepth) {
    const at = pathAt(enc, depth);
    for (let i = 0; i < depth; i++) {
      if (enc.stack[i] === container) {
        throw new TypeError(`Cannot pass a cyclic value at ${at}`);
      }
    }
    throw new RangeError(
      `Cannot pass a value nested deeper than ${enc.maxDepth} at ${at}`,
    );
  }
  enc.stack[depth] = container;
}

function encodeValue(value: unknown, depth: number, enc: Encoder): SyrupValue {
  switch (typeof value) {
    case "boolean":
    case "bigint":
    case "number":
    case "string":
      return value;
    case "symbol":
      if (Symbol.keyFor(value) === undefined) {
        throw new TypeError(
          `Cannot pass an unregistered symbol at ${pathAt(enc, depth)}`,
        );
      }
      return value;
    case "undefined":
      return VOID_RECORD;
    case "function":
      return encodeReference(value, depth, enc);
  }
  if (value === null) return NULL_RECORD;
  const obj = value as object;
  if (obj instanceof Uint8Array) return obj;
  if (Array.isArray(obj)) {
    enter(enc, depth, obj);
    const out: SyrupValue[] = new Array(obj.length);
    for (let i = 0; i < obj.length; i++) {
      enc.keys[depth] = i;
      out[i] = encodeValue(obj[i], depth + 1, enc);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) {
    return encodeLocator(obj, depth, enc) ??
      encodeStruct(obj as Record<string, unknown>, depth, enc);
  }
  if (obj instanceof Tagged) {
    enter(enc, depth, obj);
    enc.keys[depth] = "value";
    const inner = encodeValue(obj.value, depth + 1, enc);
    return new SyrupRecord(TAGGED, [Symbol.for(obj.tag), inner]);
  }
  if (obj instanceof Error) {
    return new SyrupRecord(ERROR, [errorMessage(obj, enc)]);
  }
  if (
    obj instanceof Map || obj instanceof Set || obj instanceof WeakMap ||
    obj instanceof WeakSet || obj instanceof Date || obj instanceof RegExp ||
    obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)
  ) {
    throw new TypeError(
      `Cannot pass ${quote(obj)} at ${pathAt(enc, depth)}: not an OCapN value`,
    );
  }
  return encodeReference(obj, depth, enc);
}

function encodeStruct(
  obj: Record<string, unknown>,
  depth: number,
  enc: Encoder,
): SyrupValue {
  enter(enc, depth, obj);
  if (Object.getOwnPropertySymbols(obj).length !== 0) {
    throw new TypeError(
      `Cannot pass an object with symbol keys at ${pathAt(enc, depth)}`,
    );
  }
  const out = new Map<SyrupValue, SyrupValue>();
  for (const key in obj) {
    // for-in also walks inherited enumerable keys (a polluted prototype).
    if (!Object.hasOwn(obj, key)) continue;
    enc.keys[depth] = key;
    out.set(key, encodeValue(obj[key], depth + 1, enc));
  }
  return out;
}

function encodeLocator(
  obj: object,
  depth: number,
  enc: Encoder,
): SyrupValue | undefined {
  try {
    return locatorToSyrup(obj);
  } catch (error) {
    // locator.ts knows the field, only we know where the value sits.
    throw new TypeError(
      `${(error as Error).message} at ${pathAt(enc, depth)}`,
    );
  }
}

function encodeReference(
  obj: object,
  depth: number,
  enc: Encoder,
): SyrupValue {
  const desc = enc.encodeRef?.(obj);
  if (desc === undefined) {
    throw new TypeError(
      `Cannot pass ${quote(obj)} at ${
        pathAt(enc, depth)
      }: not a copyable value`,
    );
  }
  return desc;
}

function errorMessage(error: Error, enc: Encoder): string {
  if (error instanceof RevealedError || error instanceof RemoteError) {
    return String(error.message);
  }
  const revealed = enc.revealError?.(error);
  return typeof revealed === "string" ? revealed : OPAQUE_ERROR_MESSAGE;
}
