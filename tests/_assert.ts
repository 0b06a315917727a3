/** Assertions the test files share, beyond node:assert/strict. */
import assert from "node:assert/strict";

/** Assert `fn` throws exactly `type` (not a subclass) with a matching message. */
export function throwsExactly(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  message: RegExp,
): Error {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, "expected a throw");
  assert.equal(
    caught.constructor,
    type,
    `got ${caught.constructor.name}: ${caught.message}`,
  );
  assert.match(caught.message, message);
  return caught;
}
