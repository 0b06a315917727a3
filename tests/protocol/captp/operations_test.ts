import assert from "node:assert/strict";
import { record } from "../../../protocol/syrup/value.ts";
import {
  opGcAnswers,
  opGcExports,
  readOperation,
} from "../../../protocol/captp/operations.ts";
import { ProtocolViolationError } from "../../../protocol/captp/errors.ts";
import type {
  ImportPos,
  QuestionPos,
} from "../../../protocol/captp/positions.ts";

const exp = (n: bigint) => record("desc:export", n);
const imp = (n: bigint) => record("desc:import-object", n);

Deno.test("readOperation() folds op:deliver-only into op:deliver with false false", () => {
  const op = readOperation(record("op:deliver-only", exp(3n), [1n]));
  assert.deepEqual(op, {
    type: "op:deliver",
    to: { type: "desc:export", position: 3 },
    args: [1n],
    answerPos: false,
    resolveMeDesc: false,
  });
});

Deno.test("readOperation() accepts op:listen with 2 and 3 fields", () => {
  const two = readOperation(record("op:listen", exp(1n), imp(0n)));
  const three = readOperation(record("op:listen", exp(1n), imp(0n), true));
  assert.equal(two.type === "op:listen" && two.wantsPartial, false);
  assert.equal(three.type === "op:listen" && three.wantsPartial, true);
});

Deno.test("readOperation() accepts singular, plural and scalar GC labels", () => {
  for (const label of ["op:gc-exports", "op:gc-export"]) {
    assert.deepEqual(readOperation(record(label, [1n, 2n], [3n, 4n])), {
      type: "op:gc-exports",
      exportPositions: [1, 2],
      wireDeltas: [3, 4],
    });
  }
  assert.deepEqual(readOperation(record("op:gc-export", 5n, 1n)), {
    type: "op:gc-exports",
    exportPositions: [5],
    wireDeltas: [1],
  });
  for (const label of ["op:gc-answers", "op:gc-answer"]) {
    assert.deepEqual(readOperation(record(label, [7n])), {
      type: "op:gc-answers",
      answerPositions: [7],
    });
  }
});

Deno.test("GC writers emit the selected label spelling", () => {
  const p = [1 as ImportPos];
  assert.equal(
    Symbol.keyFor(opGcExports(p, [2], "plural")[0].label as symbol),
    "op:gc-exports",
  );
  assert.equal(
    Symbol.keyFor(opGcExports(p, [2], "singular")[0].label as symbol),
    "op:gc-export",
  );
  assert.deepEqual(
    opGcAnswers([1 as QuestionPos, 2 as QuestionPos], "scalar").length,
    2,
  );
});

Deno.test("readOperation() rejects wrong field types with the field named", () => {
  assert.throws(
    () => readOperation(record("op:deliver", exp(1n), "x", false, false)),
    (e) =>
      e instanceof ProtocolViolationError &&
      /args must be a list/.test(e.message),
  );
  assert.throws(
    () => readOperation(record("op:deliver", exp(-1n), [], false, false)),
    /expected a position/,
  );
  assert.throws(
    () => readOperation(record("op:get", imp(1n), "f", 0n)),
    /desc:export or desc:answer/,
  );
  assert.throws(() => readOperation(record("op:nope")), /unknown operation/);
});
