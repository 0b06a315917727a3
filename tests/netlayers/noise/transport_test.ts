import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/mod.ts";
import { NoiseError } from "../../../netlayers/noise/errors.ts";
import {
  PeerInitiator,
  PeerResponder,
} from "../../../netlayers/noise/peer_handshake.ts";
import {
  MAX_RECORD_PLAINTEXT,
  type NoiseTransport,
  RECORD_HEADER,
  type TransportOptions,
} from "../../../netlayers/noise/transport.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { makeIdentity } from "./_fixtures.ts";

const code = (c: string) => (e: unknown) =>
  e instanceof NoiseError && e.code === c;
const bytes = (s: string) => new TextEncoder().encode(s);

function pair(
  options: TransportOptions = {},
): [NoiseTransport, NoiseTransport] {
  const alice = makeIdentity();
  const bob = makeIdentity();
  const dialer = new PeerInitiator(nativeCrypto, {
    identity: alice,
    remoteIdentity: bob.ed25519.publicKey,
    transport: options,
  });
  const r = new PeerResponder(nativeCrypto, {
    identity: bob,
    transport: options,
  })
    .receive(dialer.start());
  return [
    dialer.receive(r.reply).established.transport,
    r.established!.transport,
  ];
}

Deno.test("records flow both ways in order", () => {
  const [a, b] = pair();
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(b.open(a.seal(bytes(`a${i}`))), bytes(`a${i}`));
    assert.deepEqual(a.open(b.seal(bytes(`b${i}`))), bytes(`b${i}`));
  }
  a.close();
  b.close();
});

Deno.test("a replayed record is a 'replay' error and closes the transport", () => {
  const [a, b] = pair();
  const first = a.seal(bytes("one"));
  b.open(first);
  assert.throws(() => b.open(first), code("replay"));
  assert.equal(b.closed, true);
  assert.throws(() => b.open(a.seal(bytes("two"))), code("closed"));
  a.close();
});

Deno.test("a record arriving early is a 'reorder' error", () => {
  const [a, b] = pair();
  a.seal(bytes("skipped"));
  assert.throws(() => b.open(a.seal(bytes("second"))), code("reorder"));
  assert.equal(b.closed, true);
  a.close();
});

Deno.test("a tampered record, header or tag is a 'decrypt-failed' error", () => {
  for (const at of [0, 5, 12, -1]) {
    const [a, b] = pair();
    const record = a.seal(bytes("payload"));
    record[at < 0 ? record.length + at : at] ^= at === 5 ? 0 : 2;
    if (at === 5) record[0] ^= 4; // an unknown flag bit is covered too
    assert.throws(() => b.open(record), code("decrypt-failed"));
    assert.equal(b.closed, true);
    a.close();
  }
});

Deno.test("a short record is a 'bad-length' error", () => {
  const [a, b] = pair();
  assert.throws(() => b.open(new Uint8Array(10)), code("bad-length"));
  a.close();
});

Deno.test("seal() refuses a plaintext over the record limit", () => {
  const [a, b] = pair();
  assert.throws(
    () => a.seal(new Uint8Array(MAX_RECORD_PLAINTEXT + 1)),
    RangeError,
  );
  a.close();
  b.close();
});

Deno.test("the sender rekeys after the configured message count and the receiver follows", () => {
  const [a, b] = pair({ rekeyAfterMessages: 3 });
  const records = Array.from({ length: 10 }, (_, i) => a.seal(bytes(`m${i}`)));
  assert.deepEqual(records.map((r) => r[0]), [0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
  records.forEach((r, i) => assert.deepEqual(b.open(r), bytes(`m${i}`)));
  a.close();
  b.close();
});

Deno.test("the sender rekeys once its key is older than the configured age", () => {
  const clock = new ManualClock(0);
  const [a, b] = pair({ rekeyAfterMs: 1000, clock });
  const r1 = a.seal(bytes("early"));
  clock.advance(1000);
  const r2 = a.seal(bytes("late"));
  const r3 = a.seal(bytes("later"));
  assert.deepEqual([r1[0], r2[0], r3[0]], [0, 1, 0]);
  assert.deepEqual(b.open(r1), bytes("early"));
  assert.deepEqual(b.open(r2), bytes("late"));
  assert.deepEqual(b.open(r3), bytes("later"));
  a.close();
  b.close();
});

Deno.test("close() is idempotent and later use fails with 'closed'", () => {
  const [a, b] = pair();
  a.close();
  a.close();
  assert.throws(() => a.seal(bytes("x")), code("closed"));
  b.close();
});

Deno.test("sealInto() writes the record seal() would, in the caller's buffer", () => {
  const [a, b] = pair();
  const plaintext = bytes("into one buffer");
  const out = new Uint8Array(RECORD_HEADER + plaintext.length + 16);
  a.sealInto(plaintext, out);
  assert.deepEqual(b.open(out), plaintext);
  assert.deepEqual(b.open(a.seal(plaintext)), plaintext);
  assert.throws(() => a.sealInto(plaintext, new Uint8Array(3)), RangeError);
});
