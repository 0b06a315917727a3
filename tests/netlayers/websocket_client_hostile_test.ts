/**
 * A hostile server against the websocket client (netlayers/websocket_client.ts,
 * through WebSocketNetlayer.connect) over real loopback: the fakeServer
 * fixture answers the challenge with a correct envelope, a mutated one,
 * another key's, a signature over other bytes, garbage, or nothing (a
 * stall past the deadline on the ManualClock, a close, or the dialling
 * netlayer closing mid-dial), then hostile frames. The dial must succeed
 * exactly when the first answer proves the designator's key, and otherwise
 * fail with PeerAuthError or ConnectFailedError; a connection delivers the
 * frames that decode, then one error for the first that does not, then
 * closes; no connection or timer is left after each sequence, and the same
 * client then dials an honest listener and talks to it. Frames and scripts
 * come from _hostile_websocket.ts.
 *
 * `deno task test` runs 24 sequences from seed 1. Long run, about 4 ms a
 * sequence:
 *
 *   WEBSOCKET_FUZZ_SEQUENCES=5000 WEBSOCKET_FUZZ_SEED=7 \
 *     deno test -A tests/netlayers/websocket_client_hostile_test.ts
 *
 * Sequence i uses seed WEBSOCKET_FUZZ_SEED + i; a failure prints it and what
 * the server sent. Replay it alone with WEBSOCKET_FUZZ_SEED=<seed>
 * WEBSOCKET_FUZZ_SEQUENCES=1.
 */
import assert from "node:assert/strict";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { PeerAuthError } from "../../netlayers/websocket.ts";
import type { Connection, Netlayer, OCapNPeer } from "../../netlayers/types.ts";
import { encodeBase32 } from "../../protocol/base32.ts";
import { ManualClock } from "../../protocol/manual_clock.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import type { SyrupValue } from "../../protocol/syrup/value.ts";
import { Inbox } from "./_inbox.ts";
import { crypto, fakeServer, listen } from "./_websocket_fixtures.ts";
import {
  Prng,
  provesKey,
  type ServerScript,
  serverScript,
} from "./_hostile_websocket.ts";
import { checkObserved, observe, until } from "./_hostile_websocket_peer.ts";
import { envNumber } from "../_env.ts";

const SEQUENCES = envNumber("WEBSOCKET_FUZZ_SEQUENCES", 24);
const SEED = envNumber("WEBSOCKET_FUZZ_SEED", 1);
const HANDSHAKE_MS = 5000;
const MAX_LENGTH = 4096;

Deno.test("websocket client: a hostile server fails the dial with a typed error, or the connection delivers what decodes and ends cleanly", async () => {
  const clock = new ManualClock();
  const key = crypto.ed25519.generateKeyPair();
  let rng = new Prng(SEED);
  let log: string[] = [];
  let script: ServerScript | undefined;
  const fake = fakeServer((challenge, socket) => {
    if (script) return ""; // Frames after the challenge: ignored.
    script = serverScript(rng, {
      secretKey: key.secretKey,
      challenge,
      maxLength: MAX_LENGTH,
    }, log);
    if (script.first !== undefined) socket.send(script.first);
    for (const { frame } of script.after) socket.send(frame);
    if (script.close) socket.close(1000, "hostile server leaves");
    return "";
  });
  const client = listen({
    clock,
    handshakeTimeoutMs: HANDSHAKE_MS,
    maxLength: MAX_LENGTH,
  });
  const peer = {
    transport: "websocket",
    designator: encodeBase32(key.publicKey),
    hints: { url: fake.url },
  };
  const server = listen({ clock });
  try {
    for (let i = 0; i < SEQUENCES; i++) {
      const seed = SEED + i;
      rng = new Prng(seed);
      log = [];
      script = undefined;
      try {
        await hostileServer(
          client,
          { peer, clock, publicKey: key.publicKey, rng, log },
          () => script,
        );
        await until(
          "the client's connections",
          () => client.connectionCount === 0 && clock.pending === 0,
        );
      } catch (error) {
        throw new Error(
          `Hostile server, WEBSOCKET_FUZZ_SEED=${seed}: ${
            (error as Error).message
          }\n  sent:\n    ${log.join("\n    ")}`,
          { cause: error },
        );
      }
    }
    // The same client still dials an honest server and talks to it.
    const accepted = new Promise<Connection>((resolve) =>
      server.onAccept(resolve)
    );
    const c = new Inbox(await client.connect(server.location));
    const s = new Inbox(await accepted);
    c.onError = s.onError = (error) => assert.fail(error);
    (await accepted).send(encode("to client"));
    assert.deepEqual(await c.take(1), ["to client"]);
    assert.equal(s.messages.length, 0);
  } finally {
    await client.close();
    await server.close();
    await fake.close();
  }
  assert.equal(clock.pending, 0);
});

async function hostileServer(
  client: Netlayer & { connectionCount: number },
  ctx: {
    peer: OCapNPeer;
    clock: ManualClock;
    publicKey: Uint8Array;
    rng: Prng;
    log: string[];
  },
  script: () => ServerScript | undefined,
): Promise<void> {
  // Sometimes a netlayer of its own, closed mid-dial when the server is silent.
  const own = ctx.rng.chance(0.15)
    ? listen({
      clock: ctx.clock,
      handshakeTimeoutMs: HANDSHAKE_MS,
      maxLength: MAX_LENGTH,
    })
    : undefined;
  try {
    await dialOnce(own ?? client, ctx, script, own !== undefined);
  } finally {
    await own?.close();
    assert.equal(own?.connectionCount ?? 0, 0);
  }
}

async function dialOnce(
  client: Netlayer,
  ctx: {
    peer: OCapNPeer;
    clock: ManualClock;
    publicKey: Uint8Array;
    log: string[];
  },
  script: () => ServerScript | undefined,
  mayGiveUp: boolean,
): Promise<void> {
  const messages: SyrupValue[] = [];
  // Attached as soon as the dial resolves, as the node does.
  const dial = client.connect(ctx.peer).then(
    (connection) => {
      const seen = observe(connection);
      connection.attach({
        message: (value) => messages.push(value),
        error() {},
        close() {},
      });
      return { connection, seen, error: undefined };
    },
    (error: Error) => ({ connection: undefined, seen: undefined, error }),
  );
  await until("the challenge", () => script() !== undefined);
  const s = script()!;
  if (s.first === undefined && !s.close) {
    if (mayGiveUp) {
      ctx.log.push("client netlayer closes mid-dial");
      void client.close();
    } else ctx.clock.advance(HANDSHAKE_MS);
  }
  const { connection, seen, error } = await dial;
  if (
    s.first === undefined || !provesKey(s.first, s.challenge, ctx.publicKey)
  ) {
    assert.ok(error, "dial succeeded without a proof");
    assert.ok(
      error instanceof PeerAuthError || error instanceof ConnectFailedError,
      `${error.name}: ${error.message}`,
    );
    if (s.first === undefined) assert.ok(error instanceof ConnectFailedError);
    return;
  }
  assert.equal(error, undefined, "dial failed despite a proof");
  const bad = s.after.findIndex((a) => !a.decodes);
  const good = (bad < 0 ? s.after : s.after.slice(0, bad))
    .map((a) => decode(a.frame as Uint8Array));
  const ourClose = bad < 0 && !s.close;
  if (ourClose) void connection!.close();
  await connection!.closed;
  await checkObserved([seen!]);
  assert.deepEqual(messages, ourClose ? good.slice(0, messages.length) : good);
  assert.equal(seen!.errors.length, bad < 0 ? 0 : 1, "one error event");
}
