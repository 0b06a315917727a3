/**
 * Wire format of the encrypted UDP netlayer's data plane (README
 * "UDP netlayer"). OCapN has no UDP transport in its drafts; this one
 * carries CapTP message objects as sealed datagrams so that one lost
 * datagram costs one retransmission and never stalls other messages.
 *
 * Every datagram opens with a plaintext header that is also the AEAD
 * associated data, so no header bit can be changed without the tag failing.
 * All integers are big-endian.
 *
 * Data datagram (type 4), 32-byte header:
 *
 *   offset size field
 *   0      1    type = 4
 *   1      3    reserved, zero (keeps the fields after it 4-byte aligned)
 *   4      4    receiver session hashcode (the receiver's registry code)
 *   8      8    packet number, unique per direction; the AEAD nonce
 *   16     4    message sequence number (0, 1, 2, ... per direction)
 *   20     4    fragment index (0 .. count - 1)
 *   24     4    fragment count (>= 1)
 *   28     4    message length in bytes
 *   32     n    ChaCha20-Poly1305 ciphertext of the fragment, then 16-byte tag
 *
 * Ack datagram (type 5) and ping datagram (type 6), 16-byte header:
 *
 *   0      1    type
 *   1      3    reserved, zero
 *   4      4    receiver session hashcode
 *   8      8    packet number
 *   16     n    sealed body (a ping's body is empty: only the tag)
 *
 * Ack body (plaintext before sealing):
 *
 *   0      4    ack delay in microseconds (time the newest range waited)
 *   4      2    range count r (>= 1)
 *   6      16r  r ranges, newest first: highest packet number (8), lowest (8)
 *
 * Fragment i of a message of length L in n fragments covers bytes
 * [i * P, min(L, (i + 1) * P)) where P = ceil(L / n). The sender picks
 * n = max(1, ceil(L / Pmax)); then P <= Pmax and no fragment is empty.
 *
 * Nonce: 4 zero bytes then the 8 packet-number bytes as they are on the
 * wire. WireGuard puts its counter little-endian; we reuse the big-endian
 * header bytes so the nonce needs no conversion (deliberate deviation).
 * Packet numbers stay below 2^53 (JS safe integers): a session that gets
 * there must be replaced, which at 10^6 datagrams/s takes 285 years.
 */

export const DatagramType = {
  handshakeInitiation: 1,
  handshakeResponse: 2,
  cookieReply: 3,
  data: 4,
  ack: 5,
  ping: 6,
} as const;

export const DATA_HEADER_LENGTH = 32;
export const CONTROL_HEADER_LENGTH = 16;
export const TAG_LENGTH = 16;
export const NONCE_LENGTH = 12;
export const ACK_RANGE_LENGTH = 16;
const ACK_PREFIX_LENGTH = 6;
const TWO_32 = 0x1_0000_0000;

/** A data datagram's header fields. */
export interface DataHeader {
  session: number;
  packetNumber: number;
  sequence: number;
  index: number;
  count: number;
  length: number;
}

/** An inclusive range of packet numbers, `high >= low`. */
export interface PacketRange {
  high: number;
  low: number;
}

export interface AckBody {
  /** Microseconds between receiving the newest acked packet and acking it. */
  delayMicros: number;
  /** Newest first, disjoint. */
  ranges: PacketRange[];
}

/** Fragment payload size P for a message of `length` split in `count`. */
export function fragmentStride(length: number, count: number): number {
  return Math.ceil(length / count);
}

/** Fragment count n for a message of `length` and payload limit `max`. */
export function fragmentCount(length: number, max: number): number {
  return Math.max(1, Math.ceil(length / max));
}

/** Writes a 32-byte data header into `out` at 0. */
export function writeDataHeader(out: Uint8Array, header: DataHeader): void {
  const view = new DataView(out.buffer, out.byteOffset, DATA_HEADER_LENGTH);
  view.setUint32(0, DatagramType.data << 24);
  view.setUint32(4, header.session);
  writePacketNumber(view, header.packetNumber);
  view.setUint32(16, header.sequence);
  view.setUint32(20, header.index);
  view.setUint32(24, header.count);
  view.setUint32(28, header.length);
}

/** Writes a 16-byte ack or ping header into `out` at 0. */
export function writeControlHeader(
  out: Uint8Array,
  type: number,
  options: { session: number; packetNumber: number },
): void {
  const view = new DataView(out.buffer, out.byteOffset, CONTROL_HEADER_LENGTH);
  view.setUint32(0, type << 24);
  view.setUint32(4, options.session);
  writePacketNumber(view, options.packetNumber);
}

function writePacketNumber(view: DataView, pn: number): void {
  view.setUint32(8, Math.floor(pn / TWO_32));
  view.setUint32(12, pn >>> 0);
}

/**
 * The type byte and receiver session of any datagram, or undefined when it
 * is too short or has reserved bits set. The first (and for a stranger's
 * datagram, only) look at untrusted bytes: no allocation, no crypto.
 */
export function peekType(datagram: Uint8Array): number | undefined {
  if (datagram.length < CONTROL_HEADER_LENGTH + TAG_LENGTH) return undefined;
  if ((datagram[1] | datagram[2] | datagram[3]) !== 0) return undefined;
  return datagram[0];
}

export function peekSession(datagram: Uint8Array): number {
  return ((datagram[4] << 24) | (datagram[5] << 16) | (datagram[6] << 8) |
    datagram[7]) >>> 0;
}

export function peekPacketNumber(datagram: Uint8Array): number {
  const view = new DataView(datagram.buffer, datagram.byteOffset, 16);
  return view.getUint32(8) * TWO_32 + view.getUint32(12);
}

/**
 * Reads a data header, or undefined when the fields are inconsistent
 * (index past count, count impossible for the length, payload size not the
 * one the layout implies). Checked before the AEAD so a malformed datagram
 * costs no crypto; the header is authenticated afterwards.
 */
export function readDataHeader(
  datagram: Uint8Array,
  maxLength: number,
): DataHeader | undefined {
  if (datagram.length < DATA_HEADER_LENGTH + TAG_LENGTH) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, 32);
  const high = view.getUint32(8);
  if (high >= 0x20_0000) return undefined; // past 2^53: see module header
  const count = view.getUint32(24);
  const index = view.getUint32(20);
  const length = view.getUint32(28);
  if (count === 0 || index >= count || length > maxLength) return undefined;
  const stride = fragmentStride(length, count);
  if (length > 0 ? (count - 1) * stride >= length : count !== 1) {
    return undefined;
  }
  const expected = Math.min(length, (index + 1) * stride) - index * stride;
  if (datagram.length !== DATA_HEADER_LENGTH + expected + TAG_LENGTH) {
    return undefined;
  }
  return {
    session: view.getUint32(4),
    packetNumber: high * TWO_32 + view.getUint32(12),
    sequence: view.getUint32(16),
    index,
    count,
    length,
  };
}

/** Fills `nonce` (12 bytes) from the datagram's packet-number bytes. */
export function nonceFrom(datagram: Uint8Array, nonce: Uint8Array): void {
  nonce[0] =
    nonce[1] =
    nonce[2] =
    nonce[3] =
      0;
  nonce.set(datagram.subarray(8, 16), 4);
}

/** The largest range count an ack body of `bodyMax` bytes can hold. */
export function maxAckRanges(bodyMax: number): number {
  return Math.floor((bodyMax - ACK_PREFIX_LENGTH) / ACK_RANGE_LENGTH);
}

export function encodeAckBody(body: AckBody): Uint8Array {
  const n = body.ranges.length;
  if (n === 0 || n > 0xffff) {
    throw new RangeError(`Invalid ack range count "${n}"`);
  }
  const out = new Uint8Array(ACK_PREFIX_LENGTH + n * ACK_RANGE_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.min(0xffffffff, Math.max(0, body.delayMicros)));
  view.setUint16(4, n);
  let at = ACK_PREFIX_LENGTH;
  for (const { high, low } of body.ranges) {
    view.setUint32(at, Math.floor(high / TWO_32));
    view.setUint32(at + 4, high >>> 0);
    view.setUint32(at + 8, Math.floor(low / TWO_32));
    view.setUint32(at + 12, low >>> 0);
    at += ACK_RANGE_LENGTH;
  }
  return out;
}

/** Parses an opened ack body; throws SyntaxError with the byte offset. */
export function decodeAckBody(bytes: Uint8Array): AckBody {
  if (bytes.length < ACK_PREFIX_LENGTH) {
    throw new SyntaxError(`Ack body too short at byte ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const n = view.getUint16(4);
  if (n === 0 || bytes.length !== ACK_PREFIX_LENGTH + n * ACK_RANGE_LENGTH) {
    throw new SyntaxError(`Ack range count "${n}" does not match at byte 4`);
  }
  const ranges: PacketRange[] = [];
  for (let i = 0, at = ACK_PREFIX_LENGTH; i < n; i++, at += 16) {
    const hh = view.getUint32(at);
    const lh = view.getUint32(at + 8);
    if (hh >= 0x20_0000 || lh >= 0x20_0000) {
      throw new SyntaxError(`Packet number past 2^53 at byte ${at}`);
    }
    const high = hh * TWO_32 + view.getUint32(at + 4);
    const low = lh * TWO_32 + view.getUint32(at + 12);
    if (low > high) throw new SyntaxError(`Inverted ack range at byte ${at}`);
    ranges.push({ high, low });
  }
  return { delayMicros: view.getUint32(0), ranges };
}
