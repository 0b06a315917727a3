/**
 * FramedConnection's event lifecycle (netlayers/base.ts) on a transport the
 * test drives by hand: what arrived before `attach` reaches the consumer in
 * order, the decode error included, even when the connection closed before
 * anyone attached.
 */
import assert from "node:assert/strict";
import { FramedConnection } from "../../netlayers/base.ts";
import { encode } from "../../protocol/syrup/encode.ts";

class HandFed extends FramedConnection {
  constructor() {
    super({ transport: "hand-fed", outbound: false });
  }
  feed(bytes: Uint8Array): void {
    this.receive(bytes);
  }
  end(): void {
    this.transportEnded();
  }
  protected transmit(): void {}
  protected shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function record(connection: FramedConnection): string[] {
  const seen: string[] = [];
  connection.attach({
    message: (value) => seen.push(`message ${String(value)}`),
    error: (error) => seen.push(`error ${error.name}`),
    close: () => seen.push("close"),
  });
  return seen;
}

Deno.test("attach() replays messages and the decode error that came before a close", async () => {
  const connection = new HandFed();
  connection.feed(encode("one"));
  connection.feed(new TextEncoder().encode("}garbage"));
  await connection.closed;
  assert.deepEqual(record(connection), [
    "message one",
    "error SyntaxError",
    "close",
  ]);
});

Deno.test("attach() replays what arrived before the transport ended", async () => {
  const connection = new HandFed();
  connection.feed(encode("one"));
  connection.feed(encode("two"));
  connection.end();
  await connection.closed;
  assert.deepEqual(record(connection), ["message one", "message two", "close"]);
});

Deno.test("attach() stops replaying once a handler closes the connection", async () => {
  const connection = new HandFed();
  connection.feed(encode("one"));
  connection.feed(encode("two"));
  const seen: string[] = [];
  connection.attach({
    message: (value) => {
      seen.push(String(value));
      connection.close();
    },
    error: () => seen.push("error"),
    close: () => seen.push("close"),
  });
  await connection.closed;
  assert.deepEqual(seen, ["one", "close"]);
});
