/**
 * The tcp-testing-only netlayer (netlayers/tcp_testing.ts): the shared
 * conformance suite in both framings, the location it reports, the bytes it
 * writes, and how it closes.
 */
import assert from "node:assert/strict";
import { TcpTestingNetlayer } from "../../netlayers/tcp_testing.ts";
import type { Framing } from "../../netlayers/base.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import { runConformance } from "./_conformance.ts";
import type { PairOptions } from "./_conformance.ts";
import { Inbox } from "./_inbox.ts";
import {
  accepting,
  connectedPair,
  dialPort,
  drained,
} from "./_netlayer_fixtures.ts";

function factory(framing: Framing) {
  return {
    stream: true,
    framing,
    makePair: (options: PairOptions = {}) =>
      connectedPair(
        TcpTestingNetlayer.listen({
          framing,
          maxLength: options.serverMaxLength,
        }),
        TcpTestingNetlayer.listen({ framing }),
      ),
    async makeRawPair(options: PairOptions = {}) {
      const server = TcpTestingNetlayer.listen({
        framing,
        maxLength: options.serverMaxLength,
      });
      const accepted = accepting(server);
      const raw = await dialPort(server);
      raw.setNoDelay(true);
      const sink = new Uint8Array(4096);
      const peerClosed = drained(() => raw.read(sink));
      let rawClosed = false;
      return {
        server: await accepted,
        async writeRaw(bytes: Uint8Array) {
          for (let at = 0; at < bytes.length;) {
            at += await raw.write(bytes.subarray(at));
          }
        },
        peerClosed,
        async closeRaw() {
          if (!rawClosed) {
            rawClosed = true;
            raw.close();
          }
          await peerClosed;
        },
        dispose: () => server.close(),
      };
    },
  };
}

runConformance("tcp-testing-only bare", factory("bare"));
runConformance("tcp-testing-only netstring", factory("netstring"));

Deno.test("TcpTestingNetlayer.location reports the real port of a port 0 listener", async () => {
  const netlayer = TcpTestingNetlayer.listen({ designator: "abc" });
  const { transport, designator, hints } = netlayer.location;
  assert.equal(transport, "tcp-testing-only");
  assert.equal(designator, "abc");
  assert.equal(hints.host, "127.0.0.1");
  assert.ok(Number(hints.port) > 0);
  await netlayer.close();
});

Deno.test("TcpTestingNetlayer writes bare frames, netstring frames with <len>:", async () => {
  for (const framing of ["bare", "netstring"] as const) {
    const netlayer = TcpTestingNetlayer.listen({ framing });
    const accepted = accepting(netlayer);
    const raw = await dialPort(netlayer);
    const server = await accepted;
    new Inbox(server);
    server.send(encode("hi"));
    const closing = server.close();
    const got: number[] = [];
    const buf = new Uint8Array(64);
    for (let n; (n = await raw.read(buf)) !== null;) {
      got.push(...buf.subarray(0, n));
    }
    raw.close();
    await closing;
    const text = new TextDecoder().decode(new Uint8Array(got));
    assert.equal(text, framing === "bare" ? '2"hi' : '4:2"hi');
    await netlayer.close();
  }
});

Deno.test("TcpTestingNetlayer.connect() fails cleanly when nothing listens", async () => {
  const gone = TcpTestingNetlayer.listen();
  const location = gone.location;
  await gone.close();
  const netlayer = TcpTestingNetlayer.listen();
  await assert.rejects(netlayer.connect(location), ConnectFailedError);
  await assert.rejects(
    netlayer.connect({ ...location, transport: "memory" }),
    TypeError,
  );
  await assert.rejects(
    netlayer.connect({ ...location, hints: {} }),
    TypeError,
  );
  await netlayer.close();
});

Deno.test("TcpTestingNetlayer.close() closes accepted and dialled connections", async () => {
  const server = TcpTestingNetlayer.listen();
  const client = TcpTestingNetlayer.listen();
  const accepted = accepting(server);
  const c = new Inbox(await client.connect(server.location));
  const s = new Inbox(await accepted);
  await server.close();
  assert.equal(await s.closeReason, undefined);
  assert.ok(await c.closeReason instanceof Error);
  await client.close();
  assert.equal(server.connectionCount + client.connectionCount, 0);
});

Deno.test("TcpTestingNetlayer close() reads the peer's late input to its end instead of resetting", async () => {
  const netlayer = TcpTestingNetlayer.listen();
  const accepted = accepting(netlayer);
  const raw = await dialPort(netlayer);
  const server = await accepted;
  new Inbox(server);
  const closing = server.close();
  const buf = new Uint8Array(16);
  assert.equal(await raw.read(buf), null); // our half-close arrived
  await raw.write(encode("sent after the close began"));
  await raw.closeWrite();
  await closing;
  assert.equal(await raw.read(buf), null); // an end of input, not a reset
  raw.close();
  await netlayer.close();
});
