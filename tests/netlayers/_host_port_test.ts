import assert from "node:assert/strict";
import {
  dialTcp,
  listenTcp,
  TcpAcceptLoop,
} from "../../netlayers/_host_port.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";

Deno.test("TcpAcceptLoop hands each accepted socket on, dialTcp() reaches it", async () => {
  let onSocket!: (conn: Deno.TcpConn) => void;
  const arrived = new Promise<Deno.TcpConn>((resolve) => onSocket = resolve);
  const listener = listenTcp({});
  const loop = new TcpAcceptLoop(listener, onSocket);
  const { hostname: host, port } = listener.addr;
  assert.equal(host, "127.0.0.1");
  assert.ok(port > 0);
  const dialled = await dialTcp({ host, port });
  const accepted = await arrived;
  assert.equal(accepted.remoteAddr.port, dialled.localAddr.port);
  accepted.close();
  dialled.close();
  await loop.close();
});

Deno.test("TcpAcceptLoop close() stops listening, and twice is harmless", async () => {
  const listener = listenTcp({});
  const port = listener.addr.port;
  const loop = new TcpAcceptLoop(listener, () => {
    throw new Error("No socket was expected");
  });
  await Promise.all([loop.close(), loop.close()]);
  await assert.rejects(
    dialTcp({ host: "127.0.0.1", port }),
    ConnectFailedError,
  );
});

Deno.test("dialTcp() names the address nobody answers at", async () => {
  const listener = listenTcp({});
  const port = listener.addr.port;
  listener.close();
  await assert.rejects(
    dialTcp({ host: "127.0.0.1", port }),
    (error: unknown) =>
      error instanceof ConnectFailedError &&
      error.message === `Cannot connect to "127.0.0.1:${port}"`,
  );
});
