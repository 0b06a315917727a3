import assert from "node:assert/strict";
import {
  DATA_HEADER_LENGTH,
  DatagramType,
  decodeAckBody,
  encodeAckBody,
  fragmentCount,
  fragmentStride,
  nonceFrom,
  peekPacketNumber,
  peekSession,
  peekType,
  readDataHeader,
  TAG_LENGTH,
  writeDataHeader,
} from "../../../netlayers/udp/wire.ts";
import { seededRandom } from "./_link_shim.ts";

function dataDatagram(
  fields: { length: number; count: number; index: number; pn?: number },
): Uint8Array {
  const stride = fragmentStride(fields.length, fields.count);
  const size = Math.min(fields.length, (fields.index + 1) * stride) -
    fields.index * stride;
  const out = new Uint8Array(DATA_HEADER_LENGTH + size + TAG_LENGTH);
  writeDataHeader(out, {
    session: 0xdeadbeef,
    packetNumber: fields.pn ?? 2 ** 40 + 5,
    sequence: 9,
    index: fields.index,
    count: fields.count,
    length: fields.length,
  });
  return out;
}

Deno.test("writeDataHeader() and readDataHeader() agree on every field", () => {
  const d = dataDatagram({ length: 5000, count: 5, index: 4, pn: 2 ** 53 - 1 });
  assert.equal(peekType(d), DatagramType.data);
  assert.equal(peekSession(d), 0xdeadbeef);
  assert.equal(peekPacketNumber(d), 2 ** 53 - 1);
  assert.deepEqual(readDataHeader(d, 1 << 21), {
    session: 0xdeadbeef,
    packetNumber: 2 ** 53 - 1,
    sequence: 9,
    index: 4,
    count: 5,
    length: 5000,
  });
  const nonce = new Uint8Array(12);
  nonceFrom(d, nonce);
  assert.deepEqual(nonce.subarray(0, 4), new Uint8Array(4));
  assert.deepEqual(nonce.subarray(4), d.subarray(8, 16));
});

Deno.test("readDataHeader() rejects headers inconsistent with the datagram", () => {
  const good = dataDatagram({ length: 3000, count: 3, index: 1 });
  assert.ok(readDataHeader(good, 1 << 21));
  assert.equal(
    readDataHeader(good.subarray(0, good.length - 1), 1 << 21),
    undefined,
  );
  assert.equal(readDataHeader(good, 2999), undefined, "over the size limit");
  const badIndex = good.slice();
  badIndex[23] = 3;
  assert.equal(readDataHeader(badIndex, 1 << 21), undefined);
  const zeroCount = good.slice();
  zeroCount[27] = 0;
  assert.equal(readDataHeader(zeroCount, 1 << 21), undefined);
  const hugePn = good.slice();
  hugePn[8] = 0x01;
  assert.equal(readDataHeader(hugePn, 1 << 21), undefined, "past 2^53");
  const reserved = good.slice();
  reserved[2] = 1;
  assert.equal(peekType(reserved), undefined);
  assert.equal(peekType(new Uint8Array(31)), undefined);
});

Deno.test("fragments cover a message exactly, none empty, none over the limit", () => {
  const random = seededRandom(5);
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(random() * 100_000);
    const max = 16 + Math.floor(random() * 2000);
    const count = fragmentCount(length, max);
    const stride = fragmentStride(length, count);
    assert.ok(stride <= max);
    let covered = 0;
    for (let j = 0; j < count; j++) {
      const size = Math.min(length, (j + 1) * stride) - j * stride;
      assert.ok(size > 0 || length === 0, `fragment ${j} of ${length}/${max}`);
      covered += size;
    }
    assert.equal(covered, length);
  }
});

Deno.test("encodeAckBody() and decodeAckBody() round-trip ranges", () => {
  const body = {
    delayMicros: 1234,
    ranges: [{ high: 2 ** 50, low: 2 ** 50 - 3 }, { high: 7, low: 0 }],
  };
  assert.deepEqual(decodeAckBody(encodeAckBody(body)), body);
});

Deno.test("decodeAckBody() rejects bad bytes with a SyntaxError and offset", () => {
  const bytes = encodeAckBody({
    delayMicros: 0,
    ranges: [{ high: 9, low: 3 }],
  });
  assert.throws(() => decodeAckBody(bytes.subarray(0, 5)), SyntaxError);
  assert.throws(() => decodeAckBody(bytes.subarray(0, 21)), /byte 4/);
  const inverted = bytes.slice();
  inverted[21] = 10;
  assert.throws(() => decodeAckBody(inverted), /Inverted ack range at byte 6/);
  assert.throws(
    () => encodeAckBody({ delayMicros: 0, ranges: [] }),
    RangeError,
  );
});

Deno.test("decodeAckBody() never throws anything but SyntaxError on random bytes", () => {
  const random = seededRandom(9);
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 60));
    for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
    if (random() < 0.5 && bytes.length >= 6) {
      bytes[4] = 0;
      bytes[5] = Math.floor((bytes.length - 6) / 16);
    }
    try {
      decodeAckBody(bytes);
    } catch (error) {
      assert.ok(error instanceof SyntaxError);
    }
  }
});
