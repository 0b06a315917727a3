/**
 * The hostile listener of noise_tcp_hostile_listener_test.ts: a raw
 * loopback listener that plays the IK or XX responder by hand, with the
 * answers a seed picks for a NoiseTcpNetlayer's dial (garbage, a mistyped
 * frame, a record before the handshake, a bad message 2, cookie replies that
 * do not open or come once too often, silence, the victim closed while it
 * dials), or an honest answer handed on to the transport-phase referee
 * (_hostile_noise_tcp_watch.ts).
 */
import type { NoiseTcpNetlayer } from "../../netlayers/noise_tcp.ts";
import type { Connection } from "../../netlayers/types.ts";
import {
  encodeFrame,
  FRAME_COOKIE,
  FRAME_FINAL,
  FRAME_INITIATION,
  FRAME_RECORD,
  FRAME_RESPONSE,
  FrameReader,
  sealRecords,
  writeAll,
} from "../../netlayers/_noise_tcp_wire.ts";
import { CookieResponder } from "../../netlayers/noise/cookie.ts";
import type { PeerResponder } from "../../netlayers/noise/peer_handshake.ts";
import { nativeCrypto } from "../../crypto/mod.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import type { ManualClock } from "../../protocol/manual_clock.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import type { makeIdentity } from "./noise/_fixtures.ts";
import { stampedInitiation } from "./_noise_tcp_fixtures.ts";
import {
  concat,
  flipBit,
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

export const ANSWERS = [
  "garbage",
  "wrong-type",
  "record-first",
  "flip-m2",
  "truncate-m2",
  "close",
  "stall",
  "cookie-tampered",
  "cookie-other",
  "cookie-rounds",
  "victim-closes",
  "zero-key-m2",
  "impostor",
  "cookie-stall",
] as const;
export type Answer = typeof ANSWERS[number] | "honest";

/** A raw loopback listener whose accepted sockets queue up and all close at the end. */
export class RawListener {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly sockets: Deno.TcpConn[] = [];
  #taken = 0;
  #wake: (() => void) | undefined;
  readonly #loop = (async () => {
    for (;;) {
      try {
        this.sockets.push(await this.listener.accept());
      } catch {
        return;
      }
      this.#wake?.();
    }
  })();

  get port(): number {
    return this.listener.addr.port;
  }

  async next(): Promise<Deno.TcpConn> {
    while (this.sockets.length <= this.#taken) {
      await new Promise<void>((r) => this.#wake = r);
    }
    return this.sockets[this.#taken++];
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.#loop;
    for (const s of this.sockets) {
      try {
        s.close();
      } catch { /* already closed */ }
    }
  }
}

export interface PlayContext {
  rng: Prng;
  f: Fuzzing;
  raw: RawListener;
  clock: ManualClock;
  xx: boolean;
  answer: Answer;
  responder: PeerResponder;
  identity: ReturnType<typeof makeIdentity>;
  settled: Promise<{ c: Connection | undefined; e: unknown }>;
  victim: NoiseTcpNetlayer;
}

/** Plays the listener's answer; returns the codes the dial may fail with ("none": it succeeds). */
export async function play(p: PlayContext): Promise<string[]> {
  const { rng, f, raw, clock, xx } = p;
  // A fresh secret per round, so a mac2 made with the last cookie fails.
  const newGate = () =>
    new CookieResponder(nativeCrypto, {
      staticPublicKey: xx ? new Uint8Array(32) : p.identity.x25519.publicKey,
      clock,
    });
  let gate = newGate();
  let conn = await raw.next();
  let reader = new FrameReader(conn);
  const initiation = async () => {
    const frame = await reader.next();
    f.check(frame?.type === FRAME_INITIATION, `expected an initiation`);
    return frame!.body.slice();
  };
  let stamped = await initiation();
  const ending = async (codes: string[]) => {
    await halfClose(conn);
    await p.settled;
    return codes;
  };
  switch (p.answer) {
    case "garbage":
      await writeSplit(rng, conn, rng.bytes(1 + rng.int(100)));
      return await ending([
        "unexpected-message",
        "bad-length",
        "identity-mismatch",
      ]);
    case "wrong-type":
    case "record-first": {
      const type = p.answer === "record-first"
        ? FRAME_RECORD
        : rng.pick([0, 1, 3, 9, 255]);
      f.log(`frame of type ${type}`);
      await writeAll(conn, encodeFrame(type, rng.bytes(rng.int(120))));
      return await ending(["unexpected-message"]);
    }
    case "close":
      conn.close();
      await p.settled;
      return [xx ? "unexpected-message" : "identity-mismatch"];
    case "victim-closes":
      await p.victim.close();
      await p.settled;
      return ["closed", "unexpected-message", "identity-mismatch"];
    case "stall":
      await f.advanceUntil(clock, TIMEOUT_MS, p.settled);
      return ["timeout"];
    case "cookie-tampered":
    case "cookie-other": {
      gate.forceUnderLoad = true;
      const other = stampedInitiation(
        {
          location: { designator: encodeBase32(p.identity.ed25519.publicKey) },
        } as NoiseTcpNetlayer,
        { xx },
      );
      other.initiator.destroy();
      const verdict = gate.check(
        p.answer === "cookie-other" ? other.stamped : stamped,
        host(conn),
      );
      f.check(verdict.verdict === "cookie", "no cookie reply made");
      let reply = encodeFrame(
        FRAME_COOKIE,
        (verdict as { reply: Uint8Array }).reply,
      );
      if (p.answer === "cookie-tampered") reply = flipBit(rng, reply, 3);
      await writeAll(conn, reply);
      conn.close();
      return await ending(["decrypt-failed"]);
    }
    default:
      break;
  }
  // Cookie rounds: up to two for an honest answer, three are one too many.
  const rounds = p.answer === "cookie-rounds"
    ? 3
    : p.answer === "cookie-stall"
    ? 1
    : rng.chance(0.2)
    ? 1 + rng.int(2)
    : 0;
  for (let i = 0; i < rounds; i++) {
    gate = newGate();
    gate.forceUnderLoad = true;
    const verdict = gate.check(stamped, host(conn));
    f.check(verdict.verdict === "cookie", `round ${i}: ${verdict.verdict}`);
    f.log(`cookie round ${i + 1}`);
    await writeAll(
      conn,
      encodeFrame(FRAME_COOKIE, (verdict as { reply: Uint8Array }).reply),
    );
    if (i === 2) return await ending(["unexpected-message"]);
    conn.close();
    conn = await raw.next();
    reader = new FrameReader(conn);
    stamped = await initiation();
  }
  if (p.answer === "cookie-stall") {
    await f.advanceUntil(clock, TIMEOUT_MS, p.settled);
    return ["timeout"];
  }
  const verdict = gate.check(stamped, host(conn));
  f.check(verdict.verdict === "accept", `initiation: ${verdict.verdict}`);
  const message = (verdict as { message: Uint8Array }).message.slice();
  const { reply, established } = p.responder.receive(message);
  const m2 = encodeFrame(FRAME_RESPONSE, reply);
  if (p.answer === "zero-key-m2") {
    // A low-order ephemeral: every DH with it is all zeros.
    m2.fill(0, 3, 35);
    await writeAll(conn, m2);
    established?.transport.close();
    return await ending(["bad-key"]);
  }
  if (p.answer === "flip-m2" || p.answer === "truncate-m2") {
    const bad = p.answer === "flip-m2"
      ? flipBit(rng, m2)
      : m2.subarray(0, rng.int(m2.length));
    f.log(`message 2 of ${m2.length} bytes: ${p.answer}`);
    await writeSplit(rng, conn, bad);
    established?.transport.close();
    return await ending([
      "decrypt-failed",
      "unexpected-message",
      "bad-length",
      "identity-mismatch",
      "bad-key",
    ]);
  }
  // An IK responder may send records behind message 2 at once: they share
  // the cork with it, and the key confirmation is read as the first record.
  const corked = new CorkedSocket(rng, conn);
  const early = established && rng.chance(0.2);
  if (early) {
    await corked.write(
      concat([m2, sealRecords(established.transport, encode("early"))]),
    );
  } else if (established) {
    await corked.write(m2);
  } else {
    await writeSplit(rng, conn, m2);
  }
  if (p.answer === "impostor") return await ending(["identity-mismatch"]);
  let transport = established?.transport;
  if (xx) {
    const m3 = await reader.next();
    f.check(m3?.type === FRAME_FINAL, "expected message 3");
    transport = p.responder.finish(m3!.body.slice()).transport;
  }
  try {
    const victim = p.settled.then(({ c }) => {
      f.check(c !== undefined, "an honest answer was refused");
      return c!;
    });
    const link = { socket: corked, transport: transport!, sent: [], clock };
    await watchTransport(
      rng,
      f,
      { victim, link, reader },
      early ? ["early"] : [],
    );
  } finally {
    transport!.close();
  }
  return ["none"];
}

function host(conn: Deno.TcpConn): string {
  return conn.remoteAddr.hostname;
}
