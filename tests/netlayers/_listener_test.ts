import assert from "node:assert/strict";
import { ListeningNetlayer } from "../../netlayers/_listener.ts";
import { ConnectFailedError } from "../../netlayers/errors.ts";
import type {
  Connection,
  ConnectionEvents,
  OCapNPeer,
} from "../../netlayers/types.ts";

/** A connection that only records whether it was closed. */
class FakeConnection implements Connection {
  readonly transport = "fake";
  readonly outbound: boolean;
  readonly closed: Promise<void>;
  isClosed = false;
  #settle!: () => void;

  constructor(outbound: boolean) {
    this.outbound = outbound;
    this.closed = new Promise((resolve) => this.#settle = resolve);
  }

  attach(_events: ConnectionEvents): void {}
  send(_message: Uint8Array): void {}

  close(): Promise<void> {
    this.isClosed = true;
    this.#settle();
    return this.closed;
  }
}

/** The smallest netlayer on the base: its tests reach the protected parts. */
class FakeNetlayer extends ListeningNetlayer<FakeConnection> {
  readonly transport = "fake";
  readonly location: OCapNPeer = {
    transport: "fake",
    designator: "x",
    hints: {},
  };
  shutdowns = 0;
  openAtShutdown = -1;

  async connect(_peer: OCapNPeer): Promise<Connection> {
    this.checkOpen();
    return await Promise.resolve(this.track(new FakeConnection(true)));
  }

  arrive(): FakeConnection {
    const connection = new FakeConnection(false);
    this.accept(connection);
    return connection;
  }

  hold(work: Promise<unknown>): void {
    this.inFlight(work);
  }

  check(release?: () => void): void {
    this.checkOpen(release);
  }

  get closing(): boolean {
    return this.isClosing;
  }

  protected async shutdown(): Promise<void> {
    this.shutdowns++;
    this.openAtShutdown = this.connectionCount;
    await this.closeConnections();
  }
}

const peer: OCapNPeer = {
  transport: "fake",
  designator: "y",
  hints: {},
};

Deno.test("ListeningNetlayer counts each connection until it closes", async () => {
  const netlayer = new FakeNetlayer();
  const made = await netlayer.connect(peer);
  const accepted = netlayer.arrive();
  assert.equal(netlayer.connectionCount, 2);
  await made.close();
  assert.equal(netlayer.connectionCount, 1);
  await accepted.close();
  assert.equal(netlayer.connectionCount, 0);
  await netlayer.close();
});

Deno.test("ListeningNetlayer hands inbound connections to onAccept, those before it too", async () => {
  const netlayer = new FakeNetlayer();
  const early = netlayer.arrive();
  const seen: Connection[] = [];
  netlayer.onAccept((connection) => seen.push(connection));
  const late = netlayer.arrive();
  assert.deepEqual(seen, [early, late]);
  await netlayer.close();
});

Deno.test("ListeningNetlayer close() shuts down once and closes every connection", async () => {
  const netlayer = new FakeNetlayer();
  const made = await netlayer.connect(peer);
  const accepted = netlayer.arrive();
  const first = netlayer.close();
  assert.equal(netlayer.close(), first);
  await first;
  assert.equal(netlayer.shutdowns, 1);
  assert.equal(netlayer.openAtShutdown, 2);
  assert.ok(made.isClosed && accepted.isClosed);
  assert.equal(netlayer.connectionCount, 0);
});

Deno.test("ListeningNetlayer refuses dials once closing and releases what the dial holds", async () => {
  const netlayer = new FakeNetlayer();
  let released = 0;
  netlayer.check(() => released++);
  assert.equal(released, 0);
  assert.equal(netlayer.closing, false);
  const closing = netlayer.close();
  assert.equal(netlayer.closing, true);
  assert.throws(() => netlayer.check(() => released++), ConnectFailedError);
  assert.equal(released, 1);
  await assert.rejects(netlayer.connect(peer), ConnectFailedError);
  await closing;
});

Deno.test("ListeningNetlayer close() waits out work in flight before closing connections", async () => {
  const netlayer = new FakeNetlayer();
  const order: string[] = [];
  const connection = await netlayer.connect(peer);
  connection.closed.then(() => order.push("connection closed"));
  // Many turns, where a close that did not wait would take one or two.
  netlayer.hold((async () => {
    for (let turn = 0; turn < 50; turn++) await null;
    order.push("work done");
  })());
  await netlayer.close();
  assert.deepEqual(order, ["work done", "connection closed"]);
});

Deno.test("ListeningNetlayer close() waits out work in flight that fails too", async () => {
  const netlayer = new FakeNetlayer();
  const failing = Promise.reject(new Error("Handshake failed"));
  netlayer.hold(failing);
  await netlayer.close();
  await assert.rejects(failing, /Handshake failed/);
});
