/**
 * Syrup codec speed against cbor-x on the same logical value, in one run.
 * Groups: an op:deliver message (the hot path of every CapTP call), a 64 KiB
 * bytes payload, a list nested 64 deep, and the stream decoder under
 * several chunkings.
 */

import { decode as cborDecode, encode as cborEncode } from "cbor-x";
import {
  decode,
  encode,
  record,
  SyrupStreamDecoder,
} from "../protocol/syrup/mod.ts";
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

// Streaming decode of 6,400 op:deliver messages of about 1 KiB, as a
// byte-stream netlayer feeds them: message-aligned chunks (the baseline),
// one noise-tcp record's plaintext (65,510 bytes) at a time, and 1,000-byte
// reads. Splits cost only when a message ends in a later chunk.
const STREAM_MESSAGES = 6400;
const streamMessage = encode(
  record("op:deliver", record("desc:export", 1n), [payload.subarray(0, 1000)]),
);
const streamWire = new Uint8Array(STREAM_MESSAGES * streamMessage.length);
for (let i = 0; i < STREAM_MESSAGES; i++) {
  streamWire.set(streamMessage, i * streamMessage.length);
}

function chunked(size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < streamWire.length; at += size) {
    chunks.push(streamWire.subarray(at, at + size));
  }
  return chunks;
}

function feed(chunks: Uint8Array[]): void {
  const decoder = new SyrupStreamDecoder();
  let n = 0;
  for (const chunk of chunks) n += decoder.push(chunk).values.length;
  if (n !== STREAM_MESSAGES) throw new Error(`Decoded ${n} messages`);
}

for (
  const [label, size] of [
    ["message-aligned", streamMessage.length],
    ["65,510-byte chunks", 65_510],
    ["1,000-byte chunks", 1_000],
  ] as const
) {
  const chunks = chunked(size);
  Deno.bench({
    name: `SyrupStreamDecoder ${STREAM_MESSAGES} messages, ${label}`,
    group: "stream decode",
    baseline: size === streamMessage.length,
    fn: () => feed(chunks),
  });
}
