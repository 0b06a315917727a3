/**
 * The session lifecycle through CapTPSession's public methods, on a manual
 * clock: the named delays (handshakeTimeout, abortGrace) and a defined
 * outcome for every call in every state.
 */

import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { CapTPSession } from "../../../protocol/captp/session.ts";
import { makeVat, testHost } from "./_harness.ts";
import { hello, msg, showBytes } from "./_helpers.ts";

/** One session whose transport never closes by itself. */
function lonely() {
  const clock = new ManualClock();
  const vat = makeVat("bob");
  const sent: string[] = [];
  const closes: string[] = [];
  const session = new CapTPSession({
    send: (bytes) => void sent.push(showBytes(bytes)),
    close: (reason) => void closes.push(reason),
    clock,
    crypto: nativeCrypto,
    host: testHost,
    registry: vat.registry,
    directory: vat.directory,
    location: vat.location,
    finalizer: vat.finalizer.factory,
    handshakeTimeoutMs: 1000,
    abortGraceMs: 100,
  });
  return { clock, vat, sent, closes, session };
}

Deno.test("handshakeTimeout aborts, then abortGrace closes when the transport does not", async () => {
  const { clock, vat, sent, closes, session } = lonely();
  session.start();
  assert.equal(session.state, "awaitingPeer");
  clock.advance(999);
  assert.equal(session.state, "awaitingPeer");
  clock.advance(1);
  assert.equal(session.state, "aborting");
  assert.equal(sent.at(-1), `<op:abort "handshake timed out">`);
  assert.deepEqual(closes, ["handshake timed out"]);
  clock.advance(99);
  assert.equal(session.state, "aborting");
  clock.advance(1);
  assert.equal(session.state, "closed");
  assert.equal(await session.whenClosed(), "handshake timed out");
  await assert.rejects(session.whenOpen(), /handshake timed out/);
  assert.equal(clock.pending, 0);
  assert.equal(vat.registry.stats().live, 0);
  assert.equal(vat.directory.size, 0);
});

Deno.test("a message before op:start-session aborts with that reason, once", () => {
  const { clock, sent, session } = lonely();
  session.handleMessage(msg("op:gc-answers", []));
  session.handleMessage(msg("op:gc-answers", []));
  session.abort("again");
  assert.equal(session.state, "aborting");
  assert.deepEqual(sent, [`<op:abort "message before op:start-session">`]);
  clock.runAll();
  assert.equal(session.state, "closed");
});

Deno.test("the handshake timer does not run once the session is open", async () => {
  const { clock, vat, sent, session } = lonely();
  session.start();
  session.handleMessage(hello(makeVat("alice").location));
  assert.equal(session.state, "open");
  assert.equal(clock.pending, 0);
  clock.advance(10_000);
  assert.equal(session.state, "open");
  session.connectionClosed("done");
  assert.equal(session.state, "closed");
  assert.equal(sent.length, 1); // our op:start-session only
  assert.equal(await session.whenClosed(), "done");
  assert.equal(vat.registry.stats().live, 0);
});

Deno.test("every public call on a closed session has a defined outcome", async () => {
  const { clock, vat, sent, session } = lonely();
  session.connectionClosed("gone");
  assert.equal(session.state, "closed");
  session.start();
  session.handleMessage(hello(makeVat("alice").location));
  session.handleMessage(new Uint8Array([0xff]));
  session.abort("late");
  session.connectionClosed("later");
  session.flushGc();
  session.check();
  assert.throws(() => session.bootstrap, TypeError);
  await assert.rejects(session.fetch(new Uint8Array(1)), TypeError);
  assert.equal(session.state, "closed");
  assert.deepEqual(sent, []);
  assert.equal(await session.whenClosed(), "gone");
  assert.equal(clock.pending, 0);
  assert.equal(vat.registry.stats().live, 0);
});
