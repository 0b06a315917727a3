/**
 * What op:get, op:index and op:untag compute from a settled value (CapTP
 * draft, "op:get", "op:index", "op:untag"). A wrong shape breaks the answer
 * rather than the session: the value is data, not a protocol error.
 */

import { Tagged } from "../model.ts";
import { quote } from "../errors.ts";

export function select(
  type: "op:get" | "op:index" | "op:untag",
  value: unknown,
  key: string | number,
): unknown {
  if (type === "op:index") {
    if (!Array.isArray(value)) {
      throw new TypeError(`op:index needs a list, got ${quote(value)}`);
    }
    if (typeof key !== "number" || key >= value.length) {
      throw new RangeError(`op:index ${quote(key)} is out of range`);
    }
    return value[key];
  }
  if (type === "op:untag") {
    if (!(value instanceof Tagged) || value.tag !== key) {
      throw new TypeError(
        `op:untag ${quote(key)} does not match ${quote(value)}`,
      );
    }
    return value.value;
  }
  const proto = typeof value === "object" && value !== null
    ? Object.getPrototypeOf(value)
    : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`op:get needs a struct, got ${quote(value)}`);
  }
  const struct = value as Record<string, unknown>;
  if (typeof key !== "string" || !Object.hasOwn(struct, key)) {
    throw new RangeError(`op:get: no field ${quote(key)}`);
  }
  return struct[key];
}
