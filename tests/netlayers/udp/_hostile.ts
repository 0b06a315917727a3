/**
 * The hostile side of tests/netlayers/udp/hostile_test.ts: a seeded
 * on-path attacker between two honest endpoints (mutated copies injected
 * ahead of the real datagram, duplicates, replays, reordering, a little
 * loss) and a rogue peer with its own identity that speaks the handshake
 * and the data plane by hand, so it can send what no UdpEndpoint would:
 * inconsistent fragments, fragment floods, bogus acks, nonsense markers,
 * spoofed source addresses, and silence in the middle of a message.
 * Every choice comes from one seeded PRNG and is logged for the failure
 * message; keys and ephemerals come from the crypto provider, so a replayed
 * seed takes the same path with different bytes.
 */
import { nativeCrypto } from "../../../crypto/native.ts";
import {
  type NoiseIdentity,
  noiseIdentity,
} from "../../../netlayers/noise/peer_handshake.ts";
import type { UdpAddress } from "../../../netlayers/udp/address.ts";
import { InitiatorHandshake } from "../../../netlayers/udp/handshake_roles.ts";
import { DatagramSealer } from "../../../netlayers/udp/sealer.ts";
import {
  DatagramType,
  encodeAckBody,
  peekPacketNumber,
  peekType,
} from "../../../netlayers/udp/wire.ts";
import type { Datagram, Net, Node } from "./_net.ts";

export type Random = () => number;

export function int(random: Random, n: number): number {
  return Math.floor(random() * n);
}

export function bytesOf(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = int(random, 256);
  return out;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[int(random, items.length)];
}

/** A damaged copy of `d`: never the same bytes, any length. */
export function mutate(random: Random, d: Uint8Array): [Uint8Array, string] {
  const out = d.slice();
  // Header rewrites need the 8-byte prefix; shorter ones only grow or shrink.
  const how = d.length < 8 ? 2 + int(random, 2) : int(random, 8);
  const at = int(random, Math.max(1, d.length));
  switch (how) {
    case 0:
    case 1: {
      const flips = 1 + int(random, 3);
      for (let i = 0; i < flips; i++) {
        out[int(random, out.length)] ^= 1 << int(random, 8);
      }
      if (out.every((b, i) => b === d[i])) out[at] ^= 1;
      return [out, `flip x${flips}`];
    }
    case 2:
      return [d.slice(0, at), `truncate to ${at}`];
    case 3: {
      const extra = bytesOf(random, 1 + int(random, 64));
      const grown = new Uint8Array(d.length + extra.length);
      grown.set(d);
      grown.set(extra, d.length);
      return [grown, `extend by ${extra.length}`];
    }
    case 4:
      out[0] = int(random, 8);
      if (out[0] === d[0]) out[0] ^= 0x40;
      return [out, `type ${out[0]}`];
    case 5:
      out[1 + int(random, 3)] = 1 + int(random, 255);
      return [out, "reserved set"];
    case 6:
      out.set(bytesOf(random, 4), 4);
      out[4] ^= out[4] === d[4] ? 1 : 0;
      return [out, "session code"];
    default: {
      const n = Math.min(out.length - at, 1 + int(random, 32));
      out.set(bytesOf(random, n), at);
      if (out.every((b, i) => b === d[i])) out[at] ^= 1;
      return [out, `garbage ${n} at ${at}`];
    }
  }
}

/**
 * A type-2 copy whose Noise part is intact but whose sender code (bytes
 * 8..12, outside the Noise transcript) was changed: a dialer that takes it
 * first confirms toward a session that does not exist and its connect
 * times out (reported, not fixed: authenticating that code needs
 * netlayers/noise/**). The test tolerates exactly that outcome after it.
 */
export function tampersResponseCode(d: Uint8Array, copy: Uint8Array): boolean {
  return d[0] === 2 && copy[0] === 2 && copy.length === d.length &&
    [8, 9, 10, 11].some((i) => copy[i] !== d[i]) &&
    copy.subarray(12).every((b, i) => b === d[12 + i]);
}

/**
 * The attacker on the honest path: sees every datagram between the honest
 * endpoints, may inject a mutated copy ahead of it, hold it back and
 * deliver it later, duplicate or replay it, or drop it (rarely).
 */
export class Attacker {
  readonly seen: Datagram[] = [];
  held: Datagram[] = [];
  active = true;
  /** A response's sender code was altered (see tampersResponseCode). */
  codeTampered = false;
  #net: Net;
  #random: Random;
  #log: (line: string) => void;
  #inside = false;

  constructor(net: Net, random: Random, log: (line: string) => void) {
    this.#net = net;
    this.#random = random;
    this.#log = log;
  }

  /** Net.filter for honest datagrams; false drops or holds. */
  onPath(d: Datagram): boolean {
    if (this.#inside || !this.active) return true;
    const r = this.#random;
    if (this.seen.length < 400) {
      this.seen.push({ ...d, bytes: d.bytes.slice() });
    }
    const what = r();
    if (what < 0.12) {
      const [bytes, how] = mutate(r, d.bytes);
      this.#log(`mitm: mutated type ${d.bytes[0]} (${how}) ahead of it`);
      this.codeTampered ||= tampersResponseCode(d.bytes, bytes);
      this.inject({ ...d, bytes });
    } else if (what < 0.18) {
      this.#log(`mitm: hold type ${d.bytes[0]} for later`);
      this.held.push({ ...d, bytes: d.bytes.slice() });
      return false;
    } else if (what < 0.21) {
      this.#log(`mitm: drop type ${d.bytes[0]}`);
      return false;
    } else if (what < 0.27) {
      this.#log(`mitm: duplicate type ${d.bytes[0]}`);
      this.held.push({ ...d, bytes: d.bytes.slice() });
    }
    return true;
  }

  /** Releases held datagrams (reordered behind newer ones) in any order. */
  release(): void {
    const held = this.held;
    this.held = [];
    while (held.length > 0) {
      this.inject(held.splice(int(this.#random, held.length), 1)[0]);
    }
  }

  /** An old honest datagram again, maybe from another address. */
  replay(from?: UdpAddress): void {
    if (this.seen.length === 0) return;
    const d = pick(this.#random, this.seen);
    this.#log(`mitm: replay type ${d.bytes[0]}${from ? " spoofed" : ""}`);
    this.inject({ ...d, from: from ?? d.from });
  }

  inject(d: Datagram): void {
    this.#inside = true;
    try {
      this.#net.send(d);
    } finally {
      this.#inside = false;
    }
  }
}

/** Marker bytes of session_cache.ts: open, data, close, by the opener. */
export const OPEN = 0x81, DATA = 0x82, CLOSE = 0x83;

/**
 * A peer with its own identity and no UdpEndpoint: the test's filter hands
 * it every datagram sent to its address.
 */
export class Rogue {
  readonly address: UdpAddress;
  readonly identity: NoiseIdentity;
  readonly inbox: Uint8Array[] = [];
  dial: InitiatorHandshake | undefined;
  /** Flood initiations that answer cookies but never confirm. */
  flood: InitiatorHandshake[] = [];
  sealer: DatagramSealer | undefined;
  /** Next sequence number the rogue uses. */
  sequence = 0;
  vanished = false;
  #net: Net;
  #victim: Node;
  #acks: boolean;

  constructor(
    net: Net,
    victim: Node,
    options: { host: string; acks: boolean },
  ) {
    this.#net = net;
    this.#victim = victim;
    this.address = { hostname: options.host, port: 4000 };
    this.identity = noiseIdentity(
      nativeCrypto,
      nativeCrypto.ed25519.generateKeyPair(),
    );
    this.#acks = options.acks;
  }

  /** Frees the Noise state of every handshake it still holds. */
  destroy(): void {
    this.dial?.destroy();
    for (const dial of this.flood.splice(0)) dial.destroy();
  }

  send(bytes: Uint8Array, from: UdpAddress = this.address): void {
    if (this.vanished) return;
    this.#net.send({ bytes, from, to: this.#victim.address });
  }

  /** Starts an IK or XX handshake with the victim. */
  startHandshake(random: Random, xx: boolean): void {
    this.dial?.destroy();
    this.dial = new InitiatorHandshake(nativeCrypto, {
      clock: this.#net.clock,
      identity: this.identity,
      remoteKey: xx ? undefined : this.#victim.key,
      localCode: (int(random, 0xffffffff) + 1) >>> 0,
    });
    this.send(this.dial.initiation());
  }

  /** Answers what arrived: cookies, the response, and (maybe) data acks. */
  poll(): void {
    const inbox = this.inbox.splice(0);
    if (this.vanished) return;
    for (const d of inbox) {
      const type = peekType(d);
      const flood = type === DatagramType.cookieReply
        ? this.flood.find((dial) => dial.acceptCookie(d))
        : undefined;
      if (flood !== undefined) {
        this.send(flood.initiation());
      } else if (
        type === DatagramType.cookieReply && this.dial?.acceptCookie(d)
      ) {
        this.send(this.dial.initiation());
      } else if (type === DatagramType.handshakeResponse && this.dial) {
        const done = this.dial.respond(d);
        if (done === undefined) continue;
        this.dial.destroy();
        this.dial = undefined;
        this.sealer = new DatagramSealer(nativeCrypto, {
          key: done.keys.send,
          remoteSession: done.remoteCode,
        });
        this.send(done.confirmation);
      } else if (
        this.#acks && this.sealer &&
        (type === DatagramType.data || type === DatagramType.ping)
      ) {
        const pn = peekPacketNumber(d);
        this.send(this.sealer.control(
          DatagramType.ack,
          encodeAckBody({ delayMicros: 0, ranges: [{ high: pn, low: pn }] }),
        ));
      }
    }
  }

  /** A message object in `count` fragments (some maybe withheld). */
  message(
    body: Uint8Array,
    options: { sequence?: number; count?: number; skip?: number[] } = {},
  ): number {
    const sequence = options.sequence ?? this.sequence++;
    const count = options.count ??
      Math.max(1, Math.ceil(body.length / (1200 - 48)));
    const stride = Math.ceil(body.length / count);
    for (let index = 0; index < count; index++) {
      if (options.skip?.includes(index)) continue;
      const start = index * stride;
      this.send(this.sealer!.data(
        { sequence, index, count, length: body.length },
        body.subarray(start, Math.min(body.length, start + stride)),
      ));
    }
    return sequence;
  }
}

export function marker(kind: number, id: number, body?: Uint8Array) {
  const out = new Uint8Array(5 + (body?.length ?? 0));
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, id);
  if (body) out.set(body, 5);
  return out;
}
