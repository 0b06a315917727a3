/**
 * The generator and the byte-level moves of the noise-tcp hostile-peer
 * fuzzer (noise_tcp_hostile_test.ts): a seeded PRNG, the transport-phase
 * steps a peer holding good keys can take (clean records, split at random
 * points, or records tampered, replayed, reordered, mistyped, cut short,
 * oversized, or carrying bytes that are not Syrup), and the codes each may
 * end a connection with, and the hand-run dialer whose every byte a seed
 * chooses. Kept apart from the tests so both directions (a hostile dialer,
 * a hostile listener) share one vocabulary.
 */
import {
  encodeFrame,
  FRAME_INITIATION,
  FRAME_RECORD,
  sealRecords,
} from "../../netlayers/_noise_tcp_wire.ts";
import type { NoiseTransport } from "../../netlayers/noise/transport.ts";
import {
  designatorKey,
  NOISE_TCP_PROLOGUE,
  type NoiseTcpNetlayer,
} from "../../netlayers/noise_tcp.ts";
import { CookieInitiator } from "../../netlayers/noise/cookie.ts";
import { PeerInitiator } from "../../netlayers/noise/peer_handshake.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import { ed25519PublicToX25519 } from "../../protocol/ed25519_to_x25519.ts";
import type { ManualClock } from "../../protocol/manual_clock.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { makeIdentity } from "./noise/_fixtures.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import type { SyrupValue } from "../../protocol/syrup/value.ts";
import { Prng } from "../protocol/syrup/_arbitrary.ts";

export { Prng };

/** `bytes` with one bit flipped at a random position. */
export function flipBit(rng: Prng, bytes: Uint8Array, from = 0): Uint8Array {
  const out = bytes.slice();
  const at = from + rng.int(out.length - from);
  out[at] ^= 1 << rng.int(8);
  return out;
}

/** Writes `bytes` in up to `pieces` writes cut at random points. */
export async function writeSplit(
  rng: Prng,
  socket: { write(b: Uint8Array): Promise<number> },
  bytes: Uint8Array,
  pieces = 1 + rng.int(4),
): Promise<void> {
  const cuts = Array.from({ length: pieces - 1 }, () => rng.int(bytes.length))
    .sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    for (let i = at; i < cut;) i += await socket.write(bytes.subarray(i, cut));
    at = Math.max(at, cut);
  }
}

/**
 * One move in the transport phase. `clean` steps are what a well-behaved
 * peer may send; after the first hostile one the victim must end the
 * connection with one of `codes` (the error's `code`, or its name for a
 * built-in decode error).
 */
export type TransportStep =
  | { kind: "messages"; values: SyrupValue[]; pieces: number }
  | { kind: "large"; size: number }
  | { kind: "empty" }
  /** Time passes (solo sequences only): keys age past their rekey limit. */
  | { kind: "time"; ms: number }
  | { kind: "tamper"; seed: number }
  | { kind: "replay" }
  | { kind: "reorder" }
  | { kind: "duplicate" }
  | { kind: "wrong-type"; type: number }
  | { kind: "short"; length: number }
  | { kind: "oversize" }
  | { kind: "truncate"; keep: number }
  | { kind: "not-syrup"; lead: number; tail: number }
  | { kind: "garbage"; length: number };

const NOT_SYRUP_LEADS = [0x5d, 0x7d, 0x3e, 0x21, 0x2e, 0x2c, 0x20, 0x00, 0xff];

export function isClean(step: TransportStep): boolean {
  return step.kind === "messages" || step.kind === "large" ||
    step.kind === "empty" || step.kind === "time";
}

/**
 * Codes a connection may close with after a damaged frame: a flipped length
 * re-frames the stream; a flipped counter or type is named.
 */
export const DAMAGED_FRAME_CODES: readonly string[] = [
  "decrypt-failed",
  "replay",
  "reorder",
  "unexpected-message",
  "bad-length",
];

/** Codes a connection may close with after `step` (hostile steps only). */
export function codesAfter(step: TransportStep): readonly string[] {
  switch (step.kind) {
    case "replay":
    case "duplicate":
      return ["replay"];
    case "reorder":
      return ["reorder"];
    case "wrong-type":
      return ["unexpected-message"];
    case "short":
    case "oversize":
    case "truncate":
      return ["bad-length"];
    case "not-syrup":
      return ["SyntaxError"];
    case "tamper":
    case "garbage":
      return DAMAGED_FRAME_CODES;
    default:
      return [];
  }
}

function value(rng: Prng): SyrupValue {
  switch (rng.int(5)) {
    case 0:
      return BigInt(rng.int(1_000_000) - 500_000);
    case 1:
      return "s" + "x".repeat(rng.int(40));
    case 2:
      return rng.bytes(rng.int(64));
    case 3:
      return [BigInt(rng.int(100)), "list", rng.chance(0.5)];
    default:
      return new Map<SyrupValue, SyrupValue>([["k", BigInt(rng.int(9))]]);
  }
}

/** Up to `max` steps, clean ones first and mostly, with a hostile share. */
export function transportSteps(rng: Prng, max: number): TransportStep[] {
  const steps: TransportStep[] = [];
  const count = 1 + rng.int(max);
  for (let i = 0; i < count; i++) {
    if (!rng.chance(0.3)) {
      const r = rng.int(20);
      if (r === 0) {
        steps.push({ kind: "large", size: 60_000 + rng.int(20_000) });
      } else if (r < 3) steps.push({ kind: "empty" });
      else if (r < 5) {
        steps.push({ kind: "time", ms: 30_000 + rng.int(100_000) });
      } else {
        const values = Array.from({ length: 1 + rng.int(3) }, () => value(rng));
        steps.push({ kind: "messages", values, pieces: 1 + rng.int(5) });
      }
      continue;
    }
    steps.push(
      rng.pick<() => TransportStep>([
        () => ({ kind: "tamper", seed: rng.int(2 ** 31) }),
        () => ({ kind: "replay" }),
        () => ({ kind: "reorder" }),
        () => ({ kind: "duplicate" }),
        () => ({ kind: "wrong-type", type: rng.pick([0, 1, 2, 3, 4, 6, 255]) }),
        () => ({ kind: "short", length: rng.int(25) }),
        () => ({ kind: "oversize" }),
        () => ({ kind: "truncate", keep: 1 + rng.int(40) }),
        () => ({
          kind: "not-syrup",
          lead: rng.pick(NOT_SYRUP_LEADS),
          tail: rng.int(30),
        }),
        () => ({ kind: "garbage", length: rng.int(80) }),
      ])(),
    );
    break; // The victim ends the connection: nothing after it is read.
  }
  return steps;
}

/** What the hostile side holds once its handshake is done. */
export interface Link {
  /** Half-closing it never throws (see CorkedSocket). */
  readonly socket: {
    write(b: Uint8Array): Promise<number>;
    closeWrite(): Promise<void>;
  };
  readonly transport: NoiseTransport;
  /** Frames sent so far, for replays. */
  readonly sent: Uint8Array[];
  /** The victim's clock, when nothing else in flight minds it moving. */
  readonly clock?: { advance(ms: number): number };
}

/**
 * Plays `step` on `link`; returns the values a victim must now deliver.
 * Steps that end in a cut stream (truncate, oversize) half-close the link.
 */
export async function playStep(
  rng: Prng,
  link: Link,
  step: TransportStep,
): Promise<SyrupValue[]> {
  const seal = (bytes: Uint8Array) => sealRecords(link.transport, bytes);
  const send = async (frame: Uint8Array, pieces = 1) => {
    link.sent.push(frame);
    await writeSplit(rng, link.socket, frame, pieces);
  };
  switch (step.kind) {
    case "messages": {
      const bytes = step.values.map((v) => encode(v));
      // One record per message, or several messages in one record.
      if (rng.chance(0.5)) {
        for (const b of bytes) await send(seal(b), step.pieces);
      } else {
        await send(seal(concat(bytes)), step.pieces);
      }
      return step.values;
    }
    case "large": {
      const text = "L".repeat(step.size);
      await send(seal(encode(text)), 3);
      return [text];
    }
    case "empty":
      await send(seal(new Uint8Array(0)));
      return [];
    case "time":
      link.clock?.advance(step.ms);
      return [];
    case "tamper": {
      const frame = seal(encode("tampered"));
      await send(flipBit(new Prng(step.seed), frame));
      break;
    }
    case "replay":
      await send(link.sent.at(-1) ?? seal(new Uint8Array(0)));
      if (link.sent.length === 1) await send(link.sent[0]);
      break;
    case "reorder": {
      const a = seal(encode("first"));
      const b = seal(encode("second"));
      await send(b);
      await send(a);
      break;
    }
    case "duplicate": {
      const a = seal(new Uint8Array(0));
      await send(a);
      await send(a);
      break;
    }
    case "wrong-type": {
      const frame = seal(encode("typed")).slice();
      frame[2] = step.type;
      await send(frame);
      break;
    }
    case "short":
      await send(encodeFrame(FRAME_RECORD, rng.bytes(step.length)));
      break;
    case "oversize":
      await send(Uint8Array.of(0xff, 0xff, FRAME_RECORD, ...rng.bytes(100)));
      await link.socket.closeWrite();
      break;
    case "truncate": {
      const frame = seal(encode("cut short"));
      await send(frame.subarray(0, Math.min(step.keep, frame.length - 1)));
      await link.socket.closeWrite();
      break;
    }
    case "not-syrup": {
      const bytes = Uint8Array.of(step.lead, ...rng.bytes(step.tail));
      await send(seal(bytes));
      break;
    }
    case "garbage":
      await send(Uint8Array.of(0, 40, ...rng.bytes(step.length)));
      break;
  }
  return [];
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A hand-run dialer towards `server`: every byte it sends is ours to choose. */
export class HostileDialer {
  readonly initiator: PeerInitiator;
  readonly cookie: CookieInitiator;
  readonly message: Uint8Array;
  /** The Ed25519 key it claims, as a designator. */
  readonly designator: string;
  constructor(
    server: NoiseTcpNetlayer,
    options: {
      clock: ManualClock;
      xx: boolean;
      rekeyAfterMessages: number;
      /** Claim one Ed25519 key while holding another's X25519 static. */
      impostor: boolean;
    },
  ) {
    const { clock, xx, rekeyAfterMessages } = options;
    const remote = xx ? undefined : designatorKey(server.location.designator);
    const identity = makeIdentity();
    this.initiator = new PeerInitiator(nativeCrypto, {
      identity: options.impostor
        ? {
          ...identity,
          x25519: makeIdentity().x25519,
          staticStatic: undefined,
        }
        : identity,
      remoteIdentity: remote,
      prologue: NOISE_TCP_PROLOGUE,
      transport: { rekeyAfterMessages, clock },
    });
    this.cookie = new CookieInitiator(nativeCrypto, {
      remoteStaticPublicKey: remote
        ? ed25519PublicToX25519(remote)
        : new Uint8Array(32),
      clock,
    });
    this.message = this.initiator.start();
    this.designator = encodeBase32(identity.ed25519.publicKey);
  }
  initiation(): Uint8Array {
    return encodeFrame(FRAME_INITIATION, this.cookie.stamp(this.message));
  }
}
