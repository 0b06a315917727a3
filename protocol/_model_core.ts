/**
 * The value classes and walk helpers shared by `toSyrup` and `fromSyrup`
 * (Model.md). Private: import them from model.ts, which documents the
 * mapping; this leaf module exists so the two walks need no import cycle.
 */

import { quote } from "./errors.ts";

/** Returned by `decodeRecord` for a record it does not know. */
export const NOT_HANDLED: unique symbol = Symbol("NOT_HANDLED");

/** The message a local error carries on the wire unless revealed. */
export const OPAQUE_ERROR_MESSAGE = "Opaque error";

/**
 * Default nesting limit of both walks: far above any real message, and below
 * the Syrup decoder's 128 so a value that passes still fits once wrapped in
 * an op:deliver envelope.
 */
export const DEFAULT_MAX_DEPTH = 100;

export const TAGGED = Symbol.for("desc:tagged");
export const ERROR = Symbol.for("desc:error");
export const NULL = Symbol.for("null");
export const VOID = Symbol.for("void");

/** The OCapN Selector `name`, as the Syrup value model represents it. */
export function selector(name: string): symbol {
  if (typeof name !== "string") {
    throw new TypeError(`Selector name must be a string, got ${quote(name)}`);
  }
  return Symbol.for(name);
}

/** The name of a selector; TypeError for a symbol that is not one. */
export function selectorName(value: symbol): string {
  const name = Symbol.keyFor(value);
  if (name === undefined) {
    throw new TypeError(`Expected a selector, got ${quote(value)}`);
  }
  return name;
}

/** OCapN Tagged: a value annotated with a string tag. */
export class Tagged<T = unknown> {
  readonly tag: string;
  readonly value: T;
  constructor(tag: string, value: T) {
    if (typeof tag !== "string") {
      throw new TypeError(`Tag must be a string, got ${quote(tag)}`);
    }
    this.tag = tag;
    this.value = value;
  }
}

/** An error whose message the thrower deliberately sends to the peer. */
export class RevealedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RevealedError";
  }
}

/** Shared by both walks: the containers and keys on the current path. */
export interface Walk {
  readonly root: string;
  readonly maxDepth: number;
  readonly stack: unknown[];
  readonly keys: (string | number)[];
}

export function walkOf(options: { path?: string; maxDepth?: number }): Walk {
  return {
    root: options.path ?? "value",
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    stack: [],
    keys: [],
  };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The path to depth `depth`, built only when an error needs it. */
export function pathAt(walk: Walk, depth: number): string {
  let out = walk.root;
  for (let i = 0; i < depth; i++) {
    const key = walk.keys[i];
    out += typeof key === "number"
      ? `[${key}]`
      : IDENTIFIER.test(key)
      ? `.${key}`
      : `[${JSON.stringify(key)}]`;
  }
  return out;
}
