/**
 * Two UDP channels (Alice and Bob) wired back to back over a LinkShim, with
 * one registry and one ManualClock, for the data-plane tests. Sessions are
 * registry entries (kind "udp-session") and inbound datagrams are routed by
 * the hashcode they carry, as the socket netlayer does.
 */
import { Registry } from "../../../protocol/registry.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { nativeCrypto } from "../../../crypto/native.ts";
import { UdpChannel } from "../../../netlayers/udp/channel.ts";
import type { UdpDataOptions } from "../../../netlayers/udp/options.ts";
import { peekSession } from "../../../netlayers/udp/wire.ts";
import { type LinkFaults, LinkShim, type Side } from "./_link_shim.ts";

export interface Pair {
  clock: ManualClock;
  registry: Registry;
  link: LinkShim;
  alice: UdpChannel;
  bob: UdpChannel;
  /** Messages each side received, in arrival order. */
  inbox: { alice: Uint8Array[]; bob: Uint8Array[] };
  closed: { alice?: Error; bob?: Error };
  /** Datagrams that named no live session. */
  unrouted: number;
  /** Advances the clock 1 ms at a time until `done()` or `limit` ms. */
  run(done: () => boolean, limit?: number): number;
  /** Closes both channels, frees their sessions, and empties the link. */
  close(): void;
}

export function makePair(
  options: {
    seed?: number;
    faults?: LinkFaults;
    data?: Partial<UdpDataOptions>;
  } = {},
): Pair {
  const clock = new ManualClock();
  const registry = new Registry({ clock });
  const link = new LinkShim(clock, {
    seed: options.seed ?? 1,
    faults: options.faults,
  });
  const aToB = nativeCrypto.randomBytes(32);
  const bToA = nativeCrypto.randomBytes(32);
  const codes: Record<Side, number> = {
    a: registry.mint("udp-session", undefined),
    b: registry.mint("udp-session", undefined),
  };
  const pair = {
    clock,
    registry,
    link,
    inbox: { alice: [] as Uint8Array[], bob: [] as Uint8Array[] },
    closed: {} as { alice?: Error; bob?: Error },
    unrouted: 0,
  } as Pair;
  const make = (side: Side, name: "alice" | "bob") =>
    new UdpChannel({
      clock,
      crypto: nativeCrypto,
      registry,
      localSession: codes[side],
      remoteSession: codes[side === "a" ? "b" : "a"],
      sendKey: (side === "a" ? aToB : bToA).slice(),
      receiveKey: (side === "a" ? bToA : aToB).slice(),
      sendDatagram: link.sender(side),
      onMessage: (m) => pair.inbox[name].push(m),
      onClosed: (error) => pair.closed[name] = error,
      options: options.data,
    });
  pair.alice = make("a", "alice");
  pair.bob = make("b", "bob");
  for (const side of ["a", "b"] as const) {
    link.attach(side, {
      receive: (bytes) => {
        const code = peekSession(bytes);
        const channel = code === codes[side]
          ? (side === "a" ? pair.alice : pair.bob)
          : undefined;
        if (channel === undefined || !registry.has(code)) pair.unrouted++;
        else channel.receive(bytes);
      },
      drain: () => (side === "a" ? pair.alice : pair.bob).flush(),
    });
  }
  pair.run = (done, limit = 600_000) => {
    const start = clock.now();
    while (!done()) {
      if (clock.now() - start >= limit) {
        throw new Error(`Still running after "${limit}" ms of link time`);
      }
      clock.advance(1);
    }
    return clock.now() - start;
  };
  pair.close = () => {
    pair.alice.close();
    pair.bob.close();
    registry.release(codes.a);
    registry.release(codes.b);
    link.close();
  };
  return pair;
}

/** A message of `size` bytes whose content names its index. */
export function patterned(size: number, index: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + index * 7) & 0xff;
  return bytes;
}
