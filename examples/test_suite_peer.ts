/**
 * The peer the official OCapN test suite (ocapn/ocapn-test-suite) drives:
 * a vat on `tcp-testing-only` serving the suite's objects at their swiss
 * numbers (shared/ocapn-notes.md, "The official test suite").
 *
 *   deno run -A --v8-flags=--expose-gc examples/test_suite_peer.ts \
 *     --host 127.0.0.1 --port N [--framing bare|netstring] \
 *     [--gc-labels plural|singular] [--legacy]
 *
 * The first line on stdout is this peer's locator URI; it runs until
 * stopped. `--gc-labels singular` speaks the dialect of the suite's
 * `remove-op-deliver-only` branch; `--legacy` the older
 * `add-referencing-tests` branch (op:deliver-only, scalar GC fields).
 * `--expose-gc` lets echo-gc prompt a collection, as the suite expects.
 */
import { parseArgs } from "node:util";
import { E } from "../runtime/e.ts";
import { OCapNNode } from "../runtime/node.ts";
import { makePromiseKit } from "../runtime/promise.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import { formatPeerUri, type OCapNSturdyRef } from "../protocol/locator.ts";
import type { DialectName } from "../protocol/captp/_wire.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    framing: { type: "string", default: "bare" },
    "gc-labels": { type: "string", default: "plural" },
    legacy: { type: "boolean", default: false },
  },
});
if (values.framing !== "bare" && values.framing !== "netstring") {
  throw new TypeError(
    `--framing must be bare or netstring, not "${values.framing}"`,
  );
}
if (values["gc-labels"] !== "plural" && values["gc-labels"] !== "singular") {
  throw new TypeError(
    `--gc-labels must be plural or singular, not "${values["gc-labels"]}"`,
  );
}
const dialect: DialectName = values.legacy
  ? "suite-refs"
  : values["gc-labels"] === "singular"
  ? "suite-rod"
  : "draft";

// Every suite test reuses one peer location, so a new session from it
// replaces the old one rather than being refused.
const node = new OCapNNode({ dialect, duplicatePolicy: "replace-old" });
const vat = node.vat;
const netlayer = TcpTestingNetlayer.listen({
  host: values.host,
  port: Number(values.port),
  designator: crypto.randomUUID().replaceAll("-", ""),
  framing: values.framing,
});
node.listen(netlayer);

const symbolName = (s: unknown) =>
  typeof s === "symbol" ? Symbol.keyFor(s) : undefined;

const makeCar = (color: string, model: string) =>
  vat.makeFar("Car", () => `Vroom! I am a ${color} ${model} car!`);

const carFactory = vat.makeFar("CarFactory", (...specs: unknown[]) => {
  const cars = specs.map((spec) => {
    const [color, model] = Array.isArray(spec) && spec.length === 2
      ? spec.map(symbolName)
      : [];
    if (color === undefined || model === undefined) {
      throw new TypeError(
        "A car spec is a list of two symbols, color and model",
      );
    }
    return makeCar(color, model);
  });
  return cars.length === 1 ? cars[0] : cars;
});

const gc = (globalThis as { gc?: () => void }).gc;
const echoGc = vat.makeFar("EchoGc", (...args: unknown[]) => {
  // Drop our hold on the arguments, then let the collector find them.
  if (gc) setTimeout(gc, 50);
  return args;
});

const greeter = vat.makeFar("Greeter", (ref: unknown) => {
  E(ref)("Hello").catch(() => {});
});

const promiseResolver = vat.makeFar("PromiseResolver", () => {
  const kit = makePromiseKit<unknown>();
  const resolver = vat.makeFar("Resolver", {
    fulfill: (value: unknown) => kit.resolve(value),
    break: (reason: unknown) => kit.reject(reason),
  });
  kit.promise.catch(() => {});
  return [kit.promise, resolver];
});

const enlivener = vat.makeFar(
  "SturdyrefEnlivener",
  (ref: OCapNSturdyRef) => node.enliven(ref),
);

const published: [string, object][] = [
  [
    "JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ",
    vat.makeFar("Builder", () => carFactory),
  ],
  ["IO58l1laTyhcrgDKbEzFOO32MDd6zE5w", echoGc],
  ["VMDDd1voKWarCe2GvgLbxbVFysNzRPzx", greeter],
  ["IokCxYmMj04nos2JN1TDoY1bT8dXh6Lr", promiseResolver],
  ["gi02I1qghIwPiKGKleCQAOhpy3ZtYRpB", enlivener],
];
for (const [swiss, ref] of published) node.publish(ref, { swiss });

console.log(formatPeerUri(netlayer.location));

const stop = () => node.close("peer stopped").then(() => Deno.exit(0));
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
