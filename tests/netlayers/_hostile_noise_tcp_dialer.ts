/**
 * The hostile dialer of noise_tcp_hostile_test.ts: a hand-run IK or XX
 * initiator whose every byte is chosen by the seed, and the handshake-phase
 * attacks it plays against a NoiseTcpNetlayer listener (garbage, a
 * mistyped, bit-flipped, truncated or stalled initiation, a forged mac2, a
 * bad message 3 or key confirmation, a replayed handshake, the listener
 * closed mid-handshake), or an honest handshake handed on to the
 * transport-phase referee (_hostile_noise_tcp_watch.ts).
 */
import type { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
import type { Connection } from "../../netlayers/types.ts";
import {
  encodeFrame,
  FRAME_COOKIE,
  FRAME_FINAL,
  FRAME_INITIATION,
  FRAME_RESPONSE,
  FrameReader,
  sealRecords,
  writeAll,
} from "../../netlayers/_noise_tcp_wire.ts";
import type { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { dialPort, drained } from "./_netlayer_fixtures.ts";
import {
  DAMAGED_FRAME_CODES,
  flipBit,
  HostileDialer,
  type Prng,
  writeSplit,
} from "./_hostile_noise_tcp.ts";
import {
  CorkedSocket,
  type Fuzzing,
  halfClose,
  TIMEOUT_MS,
  watchTransport,
} from "./_hostile_noise_tcp_watch.ts";

export type Attack =
  | "honest"
  | "garbage"
  | "wrong-first"
  | "flip-initiation"
  | "truncate-initiation"
  | "silent-close"
  | "stall"
  | "stall-final"
  | "listener-closes"
  | "bad-final"
  | "bad-confirm"
  | "replay-handshake"
  | "forged-mac2"
  | "forged-body"
  | "impostor";

export const ATTACKS: Attack[] = [
  "garbage",
  "wrong-first",
  "flip-initiation",
  "truncate-initiation",
  "silent-close",
  "stall",
  "stall-final",
  "listener-closes",
  "bad-final",
  "bad-confirm",
  "replay-handshake",
  "forged-mac2",
  "forged-body",
  "impostor",
];

export interface AttackContext {
  rng: Prng;
  f: Fuzzing;
  server: NoiseTcpNetlayer;
  clock: ManualClock;
  xx: boolean;
  attack: Attack;
  underLoad: boolean;
  /** The connection the listener accepts from the peer with this designator. */
  acceptedFor: (designator: string) => Promise<Connection>;
  /** No other dialer is in flight: the clock may move. */
  solo: boolean;
}

/** Runs the attack; returns the codes the listener may report ("none": no report). */
export async function playAttack(c: AttackContext): Promise<string[]> {
  const { rng, f, server, clock, xx } = c;
  const dialer = new HostileDialer(server, {
    clock,
    xx,
    rekeyAfterMessages: 1 + rng.int(3),
    impostor: c.attack === "impostor",
  });
  let conn = await dialPort(server);
  const sockets = [conn];
  let reader = new FrameReader(conn);
  try {
    const fresh = async () => {
      conn = await dialPort(server);
      sockets.push(conn);
      reader = new FrameReader(conn);
    };
    /** Sends the initiation (through a cookie round under load); returns message 2. */
    const initiate = async (): Promise<Uint8Array> => {
      if (c.underLoad) {
        await writeAll(conn, dialer.initiation());
        const cookie = await reader.next();
        f.check(
          cookie?.type === FRAME_COOKIE,
          `expected a cookie reply, got ${cookie?.type}`,
        );
        f.check(dialer.cookie.receiveReply(cookie!.body.slice()), "cookie");
        await fresh();
      }
      const initiation = dialer.initiation();
      f.log(`initiation ${initiation.length} bytes`);
      await writeSplit(rng, conn, initiation);
      const reply = await reader.next();
      f.check(reply?.type === FRAME_RESPONSE, `expected message 2`);
      return reply!.body.slice();
    };
    /** Half-closes, then reads until the listener closes. */
    const finish = async () => {
      await halfClose(conn);
      await drained(() => reader.next().catch(() => null));
    };
    switch (c.attack) {
      case "garbage": {
        const bytes = rng.bytes(rng.int(120));
        f.log(`garbage ${bytes.length} bytes`);
        await writeSplit(rng, conn, bytes);
        await finish();
        return bytes.length === 0
          ? ["none"]
          : ["unexpected-message", "bad-length", "decrypt-failed", "none"];
      }
      case "wrong-first": {
        const type = rng.pick([0, 2, 3, 4, 5, 9, 255]);
        f.log(`first frame of type ${type}`);
        await writeAll(conn, encodeFrame(type, rng.bytes(rng.int(100))));
        await finish();
        return ["unexpected-message"];
      }
      case "flip-initiation": {
        const bad = flipBit(rng, dialer.initiation());
        f.log(`flipped initiation`);
        await writeSplit(rng, conn, bad);
        await finish();
        const codes = ["decrypt-failed", "unexpected-message", "bad-length"];
        return c.underLoad ? [...codes, "none"] : codes;
      }
      case "truncate-initiation": {
        const frame = dialer.initiation();
        const keep = 1 + rng.int(frame.length - 1);
        f.log(`initiation cut to ${keep} bytes`);
        await writeSplit(rng, conn, frame.subarray(0, keep));
        await finish();
        return ["bad-length"];
      }
      case "silent-close":
        await finish();
        return ["none"];
      case "stall": {
        const frame = dialer.initiation();
        const keep = rng.int(frame.length);
        f.log(`initiation cut to ${keep} bytes, then silence`);
        await writeSplit(rng, conn, frame.subarray(0, keep));
        await f.advanceUntil(clock, TIMEOUT_MS, drained(() => reader.next()));
        return ["timeout"];
      }
      default:
        break;
    }
    if (c.attack === "forged-body") {
      // mac1 needs only the listener's public key: the body reaches the DH.
      const m = dialer.message;
      const how = rng.pick(["random", "flip", "zero-key", "short", "long"]);
      const body = how === "random"
        ? Uint8Array.of(rng.pick([0, 1, 2, 3, 255]), ...rng.bytes(rng.int(200)))
        : how === "flip"
        ? flipBit(rng, m)
        : how === "zero-key"
        ? Uint8Array.of(m[0], ...new Uint8Array(32), ...m.subarray(33))
        : how === "short"
        ? m.subarray(0, rng.int(m.length))
        : Uint8Array.of(...m, ...rng.bytes(1 + rng.int(100)));
      f.log(`initiation body ${how}, ${body.length} bytes, mac1 valid`);
      await writeAll(
        conn,
        encodeFrame(FRAME_INITIATION, dialer.cookie.stamp(body)),
      );
      await finish();
      const codes = [
        "bad-length",
        "decrypt-failed",
        "bad-key",
        "unexpected-message",
        "identity-mismatch",
      ];
      return c.underLoad ? [...codes, "none"] : codes;
    }
    if (c.attack === "forged-mac2") {
      if (!c.underLoad) return ["none"];
      await writeAll(conn, dialer.initiation());
      await reader.next();
      await fresh();
      f.log(`initiation with a forged mac2`);
      await writeAll(
        conn,
        flipBit(rng, dialer.initiation(), 3 + dialer.message.length + 16),
      );
      const again = await reader.next();
      f.check(
        again?.type === FRAME_COOKIE,
        "a forged mac2 was not answered with a cookie",
      );
      await finish();
      return ["none"];
    }
    if (c.attack === "impostor" && !xx) {
      f.log("IK initiation claiming a key whose static it lacks");
      await writeAll(conn, dialer.initiation());
      await finish();
      return c.underLoad
        ? ["identity-mismatch", "none"]
        : ["identity-mismatch"];
    }
    const sent: Uint8Array[] = [];
    const m2 = await initiate();
    const { reply, established } = dialer.initiator.receive(m2);
    const transport = established.transport;
    try {
      if (c.attack === "listener-closes") {
        f.log(`the listener closes while message 3 or the confirmation is due`);
        await server.close();
        await drained(() => reader.next());
        return ["closed", "unexpected-message", "none"];
      }
      if (c.attack === "stall-final") {
        f.log(`silence after message 2`);
        await f.advanceUntil(clock, TIMEOUT_MS, drained(() => reader.next()));
        return ["timeout"];
      }
      let second: Uint8Array;
      if (xx) {
        second = encodeFrame(FRAME_FINAL, reply!);
      } else {
        // Sometimes the key confirmation already carries a message.
        second = sealRecords(
          transport,
          rng.chance(0.2) ? encode("early") : new Uint8Array(0),
        );
      }
      const early = !xx && second.length > 28;
      if (c.attack === "impostor") {
        f.log("message 3 claiming a key whose static it lacks");
        await writeAll(conn, second);
        await finish();
        return ["identity-mismatch"];
      }
      if (c.attack === "bad-final" || c.attack === "bad-confirm") {
        const how = rng.pick([
          "flip",
          "type",
          "truncate",
          "close",
          "initiation",
        ]);
        f.log(`${xx ? "message 3" : "key confirmation"}: ${how}`);
        if (how === "flip") await writeAll(conn, flipBit(rng, second));
        if (how === "type") second[2] = rng.pick([0, 1, 2, 4, xx ? 5 : 3]);
        if (how === "type") await writeAll(conn, second);
        if (how === "truncate") {
          await writeAll(conn, second.subarray(0, rng.int(second.length)));
        }
        if (how === "initiation") await writeAll(conn, dialer.initiation());
        await finish();
        return [...DAMAGED_FRAME_CODES, "identity-mismatch"];
      }
      if (!xx) sent.push(second);
      if (c.attack === "replay-handshake") {
        await writeSplit(rng, conn, second);
        const first = await c.acceptedFor(dialer.designator);
        const replay = await dialPort(server);
        sockets.push(replay);
        f.log(`replaying the handshake on a new connection`);
        const bytes = [dialer.initiation(), second];
        for (const b of bytes) await writeAll(replay, b);
        await halfClose(replay);
        const r = new FrameReader(replay);
        await drained(() => r.next());
        const closing = first.close();
        await finish();
        await closing;
        return ["decrypt-failed"];
      }
      const victim = c.acceptedFor(dialer.designator);
      const link = {
        socket: new CorkedSocket(rng, conn),
        transport,
        sent,
        clock: c.solo ? clock : undefined,
      };
      // The confirmation may wait in the cork for the first records.
      await link.socket.write(second);
      await watchTransport(
        rng,
        f,
        { victim, link, reader },
        early ? ["early"] : [],
      );
      return ["none"];
    } finally {
      transport.close();
    }
  } finally {
    dialer.initiator.destroy();
    for (const s of sockets) {
      try {
        s.close();
      } catch { /* already closed */ }
    }
  }
}
