/**
 * Syrup codec speed against cbor-x on the same logical value, in one run.
 * Groups: an op:deliver message (the hot path of every CapTP call), a 64 KiB
 * bytes payload, and a list nested 64 deep.
 */

import { decode as cborDecode, encode as cborEncode } from "cbor-x";
import { decode, encode, record } from "../protocol/syrup/mod.ts";
import type { SyrupValue } from "../protocol/syrup/mod.ts";

// <op:deliver <desc:export 5> [make-car "red" 12 <desc:import-object 3>] 7 <desc:import-object 8>>
const deliver = record(
  "op:deliver",
  record("desc:export", 5n),
  [Symbol.for("make-car"), "red", 12n, record("desc:import-object", 3n)],
  7n,
  record("desc:import-object", 8n),
);
const deliverCbor = [
  "op:deliver",
  ["desc:export", 5],
  ["make-car", "red", 12, ["desc:import-object", 3]],
  7,
  ["desc:import-object", 8],
];

const payload = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
let nested: SyrupValue[] = [1n];
let nestedCbor: unknown[] = [1];
for (let i = 1; i < 64; i++) {
  nested = [nested];
  nestedCbor = [nestedCbor];
}

const deliverBytes = encode(deliver);
const deliverCborBytes = cborEncode(deliverCbor);

Deno.bench({
  name: `cbor-x encode op:deliver (${deliverCborBytes.length} B)`,
  group: "op:deliver encode",
  baseline: true,
  fn: () => void cborEncode(deliverCbor),
});
Deno.bench({
  name: `syrup encode op:deliver (${deliverBytes.length} B)`,
  group: "op:deliver encode",
  fn: () => void encode(deliver),
});

Deno.bench({
  name: "cbor-x decode op:deliver",
  group: "op:deliver decode",
  baseline: true,
  fn: () => void cborDecode(deliverCborBytes),
});
Deno.bench({
  name: "syrup decode op:deliver",
  group: "op:deliver decode",
  fn: () => void decode(deliverBytes),
});

Deno.bench({
  name: "cbor-x encode+decode 64 KiB bytes",
  group: "64 KiB bytes",
  baseline: true,
  fn: () => void cborDecode(cborEncode(payload)),
});
Deno.bench({
  name: "syrup encode+decode 64 KiB bytes",
  group: "64 KiB bytes",
  fn: () => void decode(encode(payload)),
});

Deno.bench({
  name: "cbor-x encode+decode list nested 64 deep",
  group: "nested list",
  baseline: true,
  fn: () => void cborDecode(cborEncode(nestedCbor)),
});
Deno.bench({
  name: "syrup encode+decode list nested 64 deep",
  group: "nested list",
  fn: () => void decode(encode(nested)),
});
