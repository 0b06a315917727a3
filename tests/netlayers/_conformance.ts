/**
 * The one conformance suite every netlayer runs (STYLE.md: "run one shared
 * conformance suite against every netlayer"). A netlayer's test file calls
 * `runConformance(name, factory)`; the factory contract below is all the
 * suite knows about the transport.
 *
 * Factory contract:
 * - `makePair()` returns a dialled `client` and the `server` connection the
 *   listener accepted, neither attached yet, and `dispose()`, which closes
 *   every netlayer and socket the factory made (the suite has closed or
 *   awaited the connections by then).
 * - `makeRawPair()` returns an accepted `server` whose peer is under the
 *   test's direct control: `writeRaw(bytes)` puts bytes into the server's
 *   input exactly as given (no framing added; a stream transport writes them
 *   as one write), `peerClosed` settles when the raw side sees the server
 *   close, `closeRaw()` closes the raw side.
 * - Both take `serverMaxLength`, the maxLength of the server's netlayer.
 * - `stream` says the transport is a byte stream (messages may be split and
 *   joined by reads), which enables the split/joined-read tests.
 */

import assert from "node:assert/strict";
import type { Connection } from "../../netlayers/types.ts";
import type { Framing } from "../../netlayers/base.ts";
import { ConnectionClosedError } from "../../netlayers/errors.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { frameEncoded } from "../../protocol/syrup/stream.ts";
import { record, type SyrupValue } from "../../protocol/syrup/value.ts";
import { Inbox } from "./_inbox.ts";

export interface PairOptions {
  serverMaxLength?: number;
}

export interface ConformancePair {
  client: Connection;
  server: Connection;
  dispose(): Promise<void>;
}

export interface RawPair {
  server: Connection;
  writeRaw(bytes: Uint8Array): Promise<void>;
  peerClosed: Promise<void>;
  closeRaw(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ConformanceFactory {
  stream: boolean;
  framing: Framing;
  makePair(options?: PairOptions): Promise<ConformancePair>;
  makeRawPair(options?: PairOptions): Promise<RawPair>;
}

function message(i: number): SyrupValue {
  return record(
    "op:deliver",
    record("desc:export", BigInt(i)),
    [
      Symbol.for("ping"),
      `message ${i}`,
      new Uint8Array([i & 0xff, 1, 2]),
    ],
    false,
    false,
  );
}

export function runConformance(name: string, factory: ConformanceFactory) {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test(`${name}: ${title}`, fn);
  const withPair = (
    title: string,
    fn: (
      p: ConformancePair,
      client: Inbox,
      server: Inbox,
    ) => Promise<void> | void,
    options?: PairOptions,
  ) =>
    test(title, async () => {
      const pair = await factory.makePair(options);
      const client = new Inbox(pair.client);
      const server = new Inbox(pair.server);
      try {
        await fn(pair, client, server);
      } finally {
        await Promise.all([pair.client.close(), pair.server.close()]);
        await pair.dispose();
      }
    });

  withPair("connect() and accept give two open connections", (p) => {
    assert.equal(p.client.outbound, true);
    assert.equal(p.server.outbound, false);
    assert.equal(p.client.transport, p.server.transport);
    assert.equal(p.client.isClosed, false);
    assert.equal(p.server.isClosed, false);
  });

  withPair("messages arrive whole and in order both ways", async (p, c, s) => {
    for (let i = 0; i < 50; i++) {
      p.client.send(encode(message(i)));
      p.server.send(encode(message(1000 + i)));
    }
    const [atServer, atClient] = await Promise.all([s.take(50), c.take(50)]);
    assert.deepEqual(
      atServer,
      Array.from({ length: 50 }, (_, i) => message(i)),
    );
    assert.deepEqual(
      atClient,
      Array.from({ length: 50 }, (_, i) => message(1000 + i)),
    );
  });

  withPair("a 4 MiB message arrives intact", async (p, c, s) => {
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i * 7);
    p.client.send(encode(big));
    p.server.send(encode([big, "after"]));
    assert.deepEqual(await s.take(1), [big]);
    assert.deepEqual(await c.take(1), [[big, "after"]]);
  });

  withPair(
    "5000 messages sent at once all arrive in order",
    async (p, _, s) => {
      for (let i = 0; i < 5000; i++) p.client.send(encode(BigInt(i)));
      const got = await s.take(5000);
      assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => BigInt(i)));
    },
  );

  withPair("events before attach() are replayed in order", async (p) => {
    const late = await factory.makePair();
    try {
      for (let i = 0; i < 3; i++) late.client.send(encode(message(i)));
      const probe = new Inbox(late.client);
      late.server.send(encode("ready"));
      await probe.take(1); // the server's reply proves its input was read
      const server = new Inbox(late.server);
      assert.deepEqual(await server.take(3), [
        message(0),
        message(1),
        message(2),
      ]);
    } finally {
      await Promise.all([late.client.close(), late.server.close()]);
      await late.dispose();
    }
    assert.equal(p.client.isClosed, false);
  });

  withPair("send() over maxLength throws RangeError", (p) => {
    assert.throws(() => p.server.send(new Uint8Array(2048)), RangeError);
    assert.equal(p.server.isClosed, false);
  }, { serverMaxLength: 1024 });

  withPair(
    "an oversized message gives an error event, then both close",
    async (p, c, s) => {
      p.client.send(encode(new Uint8Array(4096)));
      const error = await s.error;
      assert.ok(error instanceof SyntaxError || error instanceof RangeError);
      assert.ok(await s.closeReason instanceof Error);
      assert.ok(await c.closeReason instanceof ConnectionClosedError);
      assert.equal(s.messages.length, 0);
    },
    { serverMaxLength: 1024 },
  );

  withPair(
    "a send inside the error handler still reaches the peer",
    async (p, c, s) => {
      s.onError = () => p.server.send(encode(record("op:abort", "bad input")));
      p.client.send(encode(new Uint8Array(4096)));
      assert.deepEqual(await c.take(1), [record("op:abort", "bad input")]);
      await c.closeReason;
    },
    { serverMaxLength: 1024 },
  );

  for (const side of ["client", "server"] as const) {
    withPair(
      `close() by the ${side} is seen by both sides`,
      async (p, c, s) => {
        const [closer, other] = side === "client" ? [c, s] : [s, c];
        p[side].send(encode("last words"));
        await p[side].close();
        assert.equal(await closer.closeReason, undefined);
        assert.ok(await other.closeReason instanceof ConnectionClosedError);
        assert.deepEqual(other.messages, ["last words"]);
        assert.equal(p.client.isClosed && p.server.isClosed, true);
      },
    );
  }

  withPair(
    "send() after close is a no-op and close() is idempotent",
    async (p, _, s) => {
      await p.client.close();
      p.client.send(encode("dropped"));
      await p.client.close();
      await s.closeReason;
      assert.deepEqual(s.messages, []);
    },
  );

  const withRaw = (
    title: string,
    fn: (r: RawPair, server: Inbox) => Promise<void>,
    options?: PairOptions,
  ) =>
    test(title, async () => {
      const raw = await factory.makeRawPair(options);
      const server = new Inbox(raw.server);
      try {
        await fn(raw, server);
      } finally {
        await raw.closeRaw();
        await raw.server.close();
        await raw.dispose();
      }
    });
  const frame = (v: SyrupValue) => frameEncoded(encode(v), factory.framing);
  const concat = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) out.set(part, (at += part.length) - part.length);
    return out;
  };

  withRaw("garbage bytes give a SyntaxError event and close", async (r, s) => {
    await r.writeRaw(new TextEncoder().encode("]]]not syrup"));
    assert.ok(await s.error instanceof SyntaxError);
    await r.peerClosed;
    assert.equal(r.server.isClosed, true);
  });

  if (factory.stream) {
    withRaw(
      "messages split across many reads are reassembled",
      async (r, s) => {
        const bytes = concat([
          frame(message(1)),
          frame(message(2)),
          frame(message(3)),
        ]);
        for (let at = 0; at < bytes.length; at += 5) {
          await r.writeRaw(bytes.subarray(at, at + 5));
        }
        assert.deepEqual(await s.take(3), [message(1), message(2), message(3)]);
      },
    );

    withRaw("several messages in one read are all delivered", async (r, s) => {
      const values = Array.from({ length: 20 }, (_, i) => message(i));
      await r.writeRaw(concat(values.map(frame)));
      assert.deepEqual(await s.take(20), values);
    });
  }
}
