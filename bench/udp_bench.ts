/**
 * The UDP netlayer's hot path in one process, beside its ceiling.
 *
 * "udp hot path": a message object goes through the whole data plane of two
 * UdpChannels (fragment, seal each datagram, check header and replay window,
 * open, reassemble, deliver, and the acks back), against the baseline of
 * raw ChaCha20-Poly1305 seal + open of the same bytes in the same
 * datagram-sized pieces, which per-datagram sealing cannot beat. Target: at
 * least 80% of the ceiling (a time ratio of at most 1.25). A one-shot AEAD
 * over the whole message is listed for scale, not as the baseline.
 *
 * "udp reject": the cost of refusing one bogus datagram, beside one AEAD
 * open of a datagram (target: under 10 µs).
 *
 * "udp reject initiation": the endpoint (netlayers/udp/endpoint.ts)
 * refusing a bogus 169-byte handshake initiation whose mac1 is wrong, the
 * cheapest thing a stranger can make it check with crypto, beside the one
 * BLAKE2s over the same bytes that the mac1 check is.
 */
import { nativeCrypto } from "../crypto/native.ts";
import { ManualClock } from "../protocol/manual_clock.ts";
import { Registry } from "../protocol/registry.ts";
import { UdpChannel } from "../netlayers/udp/channel.ts";
import { UdpEndpoint } from "../netlayers/udp/endpoint.ts";
import { noiseIdentity } from "../netlayers/noise/peer_handshake.ts";
import { DATA_HEADER_LENGTH, TAG_LENGTH } from "../netlayers/udp/wire.ts";

const crypto = nativeCrypto;
const PAYLOAD = 1200 - DATA_HEADER_LENGTH - TAG_LENGTH;

function makeLink() {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const toBob: Uint8Array[] = [];
  const toAlice: Uint8Array[] = [];
  const k1 = crypto.randomBytes(32);
  const k2 = crypto.randomBytes(32);
  let delivered = 0;
  const options = { pacingBurst: 64 };
  const alice = new UdpChannel({
    clock,
    crypto,
    registry,
    localSession: 1,
    remoteSession: 2,
    sendKey: k1.slice(),
    receiveKey: k2.slice(),
    sendDatagram: (d) => toBob.push(d),
    onMessage: () => {},
    options,
  });
  const bob = new UdpChannel({
    clock,
    crypto,
    registry,
    localSession: 2,
    remoteSession: 1,
    sendKey: k2.slice(),
    receiveKey: k1.slice(),
    sendDatagram: (d) => toAlice.push(d),
    onMessage: () => delivered++,
    options,
  });
  /** Sends one message and pumps both directions until it is delivered. */
  const roundTrip = (message: Uint8Array) => {
    const target = delivered + 1;
    alice.send(message);
    while (delivered < target || toBob.length > 0 || toAlice.length > 0) {
      for (let i = 0; i < toBob.length; i++) bob.receive(toBob[i]);
      toBob.length = 0;
      bob.flush();
      for (let i = 0; i < toAlice.length; i++) alice.receive(toAlice[i]);
      toAlice.length = 0;
      alice.flush();
      clock.advance(1);
    }
  };
  return { alice, bob, roundTrip };
}

/**
 * A data header for Bob's live session with a consistent layout: only the
 * tag is wrong, so this is the most a stranger can make Bob spend. Each
 * `next()` gives it a fresh packet number from `firstPn`, so the replay
 * window never refuses it before the tag check does.
 */
function forgedDatagram(firstPn: number) {
  const bytes = crypto.randomBytes(1200);
  bytes.set([4, 0, 0, 0, 0, 0, 0, 2], 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 0);
  view.setUint32(16, 0);
  view.setUint32(20, 0);
  view.setUint32(24, 1);
  view.setUint32(28, PAYLOAD);
  let pn = firstPn;
  return {
    next(): Uint8Array {
      view.setUint32(12, pn++);
      return bytes;
    },
  };
}

function rawChunks(message: Uint8Array, key: Uint8Array) {
  const nonce = new Uint8Array(12);
  const ad = new Uint8Array(DATA_HEADER_LENGTH);
  return () => {
    for (let at = 0, n = 0; at < message.length; at += PAYLOAD, n++) {
      nonce[11] = n & 0xff;
      nonce[10] = n >> 8;
      const sealed = crypto.aead.seal(
        key,
        nonce,
        message.subarray(at, at + PAYLOAD),
        ad,
      );
      if (crypto.aead.open(key, nonce, sealed, ad) === null) throw new Error();
    }
  };
}

for (const [label, size] of [["64 KiB", 64 * 1024], ["1 MiB", 1 << 20]]) {
  const message = crypto.randomBytes(size as number);
  const key = crypto.randomBytes(32);
  const link = makeLink();
  const group = `udp hot path ${label}`;
  Deno.bench({
    name: `raw AEAD seal+open ${label} in ${PAYLOAD}-byte datagrams`,
    group,
    baseline: true,
    fn: rawChunks(message, key),
  });
  Deno.bench({
    name: `fragment+seal+open+reassemble ${label}`,
    group,
    fn: () => link.roundTrip(message),
  });
  Deno.bench({
    name: `raw AEAD seal+open ${label} one-shot (for scale)`,
    group,
    fn: () => {
      const nonce = new Uint8Array(12);
      const sealed = crypto.aead.seal(key, nonce, message, new Uint8Array(0));
      crypto.aead.open(key, nonce, sealed, new Uint8Array(0));
    },
  });
}

{
  const link = makeLink();
  const key = crypto.randomBytes(32);
  const nonce = new Uint8Array(12);
  const ad = new Uint8Array(DATA_HEADER_LENGTH);
  const sealed = crypto.aead.seal(key, nonce, new Uint8Array(PAYLOAD), ad);
  const random = crypto.randomBytes(1200);
  const forged = forgedDatagram(1_000_000);
  Deno.bench({
    name: "AEAD open of one 1200-byte datagram",
    group: "udp reject",
    baseline: true,
    fn: () => {
      crypto.aead.open(key, nonce, sealed, ad);
    },
  });
  Deno.bench({
    name: "reject a random datagram",
    group: "udp reject",
    fn: () => link.bob.receive(random),
  });
  Deno.bench({
    name: "reject a forged datagram for a live session (tag fails)",
    group: "udp reject",
    fn: () => link.bob.receive(forged.next()),
  });
}

// "udp reject vs a call": the same refusals beside the cheapest possible
// baseline, an empty function call, so the ratio reads as "calls' worth".
{
  const link = makeLink();
  const noop = (_: Uint8Array) => {};
  const stranger = crypto.randomBytes(1200);
  // A well-formed data type byte, so the session hashcode is what fails.
  stranger.set([4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef], 0);
  const forged = forgedDatagram(2_000_000);
  Deno.bench({
    name: "empty function call",
    group: "udp reject vs a call",
    baseline: true,
    fn: () => noop(stranger),
  });
  Deno.bench({
    name: "receive() of random bytes, wrong session hashcode",
    group: "udp reject vs a call",
    fn: () => link.bob.receive(stranger),
  });
  Deno.bench({
    name: "receive() with the right session hashcode, bad tag",
    group: "udp reject vs a call",
    fn: () => link.bob.receive(forged.next()),
  });
}

{
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const endpoint = new UdpEndpoint({
    clock,
    crypto,
    registry,
    identity: noiseIdentity(crypto, crypto.ed25519.generateKeyPair()),
    sendTo: () => {},
    onAccept: () => {},
  });
  const from = { hostname: "10.9.9.9", port: 9 };
  // Type 1, IK, the right length: only mac1 can refuse it.
  const bogus = crypto.randomBytes(169);
  bogus.set([1, 0, 0, 0], 0);
  bogus[8] = 1;
  const keyAndBody = crypto.randomBytes(32 + 137);
  Deno.bench({
    name: "BLAKE2s of 169 bytes (mac1 key + initiation body)",
    group: "udp reject initiation",
    baseline: true,
    fn: () => {
      crypto.hash("blake2s", keyAndBody);
    },
  });
  Deno.bench({
    name: "endpoint.receive() of a bogus initiation (mac1 fails)",
    group: "udp reject initiation",
    fn: () => endpoint.receive(bogus, from),
  });
}
