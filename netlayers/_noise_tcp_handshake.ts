/**
 * The two handshake roles of the `noise-tcp` netlayer over a TCP socket:
 * the dialer's and the responder's, each an Attempt
 * (netlayers/_noise_tcp_attempt.ts: the xstate lifecycle with its named
 * timeout, and one registry entry with a deadline while in flight).
 *
 * DoS resistance after WireGuard (netlayers/noise/cookie.ts): the responder
 * reads the first frame, checks mac1 before any public-key work, and under
 * load answers with a cookie reply and closes, so an initiation that has
 * not proved it can receive at its address costs neither a Diffie-Hellman
 * nor an entry. The cookie is bound to the source IP only: the dialer must
 * open a new TCP connection (a new source port) to echo it.
 *
 * Key confirmation: an IK responder could complete on a replayed initiation,
 * so it accepts nobody until the dialer's first transport record opens
 * (the dialer sends an empty one at once; only the holder of the initiation's
 * ephemeral key can make it). XX's message 3 confirms by itself.
 */
import { CookieInitiator, CookieResponder } from "./noise/cookie.ts";
import type { CookieVerdict } from "./noise/cookie.ts";
import { NoiseError } from "./noise/errors.ts";
import { identityStatic, KIND_XX } from "./noise/peer_handshake.ts";
import {
  encodeFrame,
  FRAME_COOKIE,
  FRAME_FINAL,
  FRAME_INITIATION,
  FRAME_RECORD,
  FRAME_RESPONSE,
  FrameReader,
  sealRecords,
  unexpectedFrame,
  writeAll,
} from "./_noise_tcp_wire.ts";
import type { SocketLike } from "./_noise_tcp_duplex.ts";
import {
  Attempt,
  closeQuietly,
  type HandshakeContext,
  type Handshaken,
  nextFrame,
} from "./_noise_tcp_attempt.ts";

export {
  closeQuietly,
  HANDSHAKE_KIND,
  type HandshakeContext,
  type Handshaken,
} from "./_noise_tcp_attempt.ts";

/** mac1 and cookie keys of XX initiations, whose dialer knows no responder key. */
const ANONYMOUS_RESPONDER_KEY = new Uint8Array(32);
/** Cookie rounds a dialer goes through before it gives up. */
const MAX_COOKIE_ROUNDS = 2;

/** The responder's cookie gate: one CookieResponder per mac1 key, one load figure. */
export class CookieGate {
  forceUnderLoad = false;
  readonly #keyed: CookieResponder;
  readonly #anonymous: CookieResponder;

  constructor(
    ctx: HandshakeContext,
    options: { loadThreshold?: number },
  ) {
    const make = (staticPublicKey: Uint8Array) =>
      new CookieResponder(ctx.crypto, {
        staticPublicKey,
        clock: ctx.clock,
        loadThreshold: options.loadThreshold,
      });
    this.#keyed = make(ctx.identity.x25519.publicKey);
    this.#anonymous = make(ANONYMOUS_RESPONDER_KEY);
  }

  check(stamped: Uint8Array, address: string): CookieVerdict {
    this.#keyed.forceUnderLoad = this.#anonymous.forceUnderLoad = false;
    const loaded = this.forceUnderLoad || this.#keyed.underLoad ||
      this.#anonymous.underLoad;
    this.#keyed.forceUnderLoad = this.#anonymous.forceUnderLoad = loaded;
    const gate = stamped[0] === KIND_XX ? this.#anonymous : this.#keyed;
    return gate.check(stamped, address);
  }
}

export interface DialOptions {
  /** Opens a TCP connection to the responder (again, after a cookie reply). */
  readonly connect: () => Promise<SocketLike>;
  /** The responder's Ed25519 key from its locator: IK; absent: XX. */
  readonly remoteIdentity?: Uint8Array;
}

/** The dialer's side. @throws {NoiseError} with the reason it failed */
export async function dialHandshake(
  ctx: HandshakeContext,
  options: DialOptions,
): Promise<Handshaken> {
  const remoteIdentity = options.remoteIdentity;
  const remoteStatic = remoteIdentity
    ? identityStatic(remoteIdentity)
    : ANONYMOUS_RESPONDER_KEY;
  const cookie = new CookieInitiator(ctx.crypto, {
    remoteStaticPublicKey: remoteStatic,
    clock: ctx.clock,
  });
  const first = await options.connect();
  const attempt: Attempt = new Attempt(ctx, first, new FrameReader(first));
  let type = FRAME_INITIATION;
  attempt.start(
    {
      initiator: true,
      options: {
        identity: ctx.identity,
        remoteIdentity,
        remoteStatic: remoteIdentity ? remoteStatic : undefined,
        prologue: ctx.prologue,
        transport: ctx.transport,
      },
    },
    (bytes) => attempt.write(encodeFrame(type, bytes)),
    cookie,
  );
  attempt.actor!.send({ type: "DIAL" });
  let cookieRounds = 0;
  while (attempt.failure === undefined) {
    const frame = await nextFrame(attempt, [FRAME_RESPONSE, FRAME_COOKIE]);
    if (attempt.failure) break;
    if (frame === null || frame === undefined) {
      attempt.fail(
        remoteIdentity
          ? new NoiseError(
            "identity-mismatch",
            "Responder closed the connection without answering: it does not hold the locator's key (a responder that cannot open message 1 stays silent), or it refused the handshake",
          )
          : new NoiseError(
            "unexpected-message",
            "Responder closed the connection during the handshake",
          ),
      );
    }
    if (frame.type === FRAME_COOKIE && cookieRounds < MAX_COOKIE_ROUNDS) {
      cookieRounds++;
      attempt.hold();
      attempt.actor!.send({ type: "COOKIE", reply: frame.body.slice() });
      let socket: SocketLike;
      try {
        socket = await options.connect();
      } catch (error) {
        attempt.fail(error as Error);
      }
      if (attempt.failure) {
        closeQuietly(socket);
        break;
      }
      if (!attempt.resume(socket)) {
        attempt.fail(
          new NoiseError("decrypt-failed", "Cookie reply does not open"),
        );
      }
      continue;
    }
    if (frame.type !== FRAME_RESPONSE) {
      attempt.fail(unexpectedFrame(frame, "message 2", attempt.reader.offset));
    }
    type = FRAME_FINAL;
    attempt.actor!.send({ type: "MESSAGE", message: frame.body.slice() });
    const established = attempt.established();
    if (attempt.failure || !established) break;
    if (remoteIdentity) {
      attempt.write(sealRecords(established.transport, new Uint8Array(0)));
    }
    await attempt.flushed();
    if (attempt.failure) break;
    attempt.complete();
    return { socket: attempt.socket, reader: attempt.reader, established };
  }
  return attempt.fail(new NoiseError("closed", "Noise handshake ended"));
}

/**
 * The responder's side of one accepted socket. Returns undefined when the
 * socket was answered statelessly (a cookie reply) or closed before saying
 * anything. @throws {NoiseError} on anything wrong
 */
export async function answerHandshake(
  ctx: HandshakeContext,
  socket: SocketLike,
  options: { gate: CookieGate; address: string },
): Promise<Handshaken | undefined> {
  const reader = new FrameReader(socket);
  ctx.handshaking.add(socket);
  // Before the first frame nothing is in flight: a plain timer, no entry.
  let timedOut = false;
  const cancel = ctx.clock.schedule(ctx.clock.now() + ctx.timeoutMs, () => {
    timedOut = true;
    closeQuietly(socket);
  });
  let stamped: Uint8Array;
  try {
    const frame = await reader.next([FRAME_INITIATION]);
    if (frame === null) throw null;
    if (frame.type !== FRAME_INITIATION) {
      throw unexpectedFrame(frame, "an initiation", 0);
    }
    stamped = frame.body;
  } catch (error) {
    closeQuietly(socket);
    if (timedOut) {
      throw new NoiseError("timeout", "No initiation before the deadline");
    }
    if (error === null || !(error instanceof NoiseError)) return undefined;
    throw error;
  } finally {
    cancel();
    ctx.handshaking.delete(socket);
  }
  const verdict = options.gate.check(stamped, options.address);
  if (verdict.verdict === "drop") {
    closeQuietly(socket);
    throw new NoiseError("decrypt-failed", "Initiation mac1 does not verify");
  }
  if (verdict.verdict === "cookie") {
    await writeAll(socket, encodeFrame(FRAME_COOKIE, verdict.reply)).catch(
      () => {},
    );
    closeQuietly(socket);
    return undefined;
  }
  const attempt: Attempt = new Attempt(ctx, socket, reader);
  attempt.start(
    {
      initiator: false,
      options: {
        identity: ctx.identity,
        prologue: ctx.prologue,
        transport: ctx.transport,
      },
    },
    (bytes) => attempt.write(encodeFrame(FRAME_RESPONSE, bytes)),
  );
  attempt.actor!.send({ type: "INITIATION", message: verdict.message.slice() });
  let initial: Uint8Array | undefined;
  if (attempt.state() === "awaitingFinal") {
    const frame = await nextFrame(attempt, [FRAME_FINAL]);
    if (!attempt.failure) {
      if (!frame) attempt.fail(closedEarly());
      if (frame.type !== FRAME_FINAL) {
        attempt.fail(unexpectedFrame(frame, "message 3", reader.offset));
      }
      attempt.actor!.send({ type: "MESSAGE", message: frame.body.slice() });
    }
  } else if (attempt.established()) {
    const frame = await nextFrame(attempt, [FRAME_RECORD]);
    if (!attempt.failure) {
      if (!frame) attempt.fail(closedEarly());
      if (frame.type !== FRAME_RECORD) {
        attempt.fail(unexpectedFrame(frame, "key confirmation", reader.offset));
      }
      try {
        initial = attempt.established()!.transport.open(frame.body);
      } catch (error) {
        attempt.fail(error as Error);
      }
    }
  }
  const established = attempt.established();
  if (attempt.failure || !established || attempt.state() !== "established") {
    return attempt.fail(new NoiseError("closed", "Noise handshake ended"));
  }
  await attempt.flushed();
  if (attempt.failure) throw attempt.failure;
  attempt.complete();
  return { socket, reader, established, initial };
}

function closedEarly(): NoiseError {
  return new NoiseError(
    "unexpected-message",
    "Dialer closed the connection during the handshake",
  );
}
