/**
 * The cookie gate of the `noise-tcp` netlayer
 * (netlayers/_noise_tcp_handshake.ts CookieGate), the check every stamped
 * initiation passes before any Diffie-Hellman: mac1 only, and under load
 * with a valid mac2 and with a cookie reply, each beside one BLAKE2s of the
 * same bytes measured in the same run.
 *
 * A script rather than a `Deno.bench` file so that its rows keep the names
 * and units they had in bench/noise_tcp_script.ts, where it began; the
 * netlayer's throughput and round trips are still there.
 *
 * Prints JSON lines {name, value, unit, baseline, baseline_value, ratio};
 * the only argument is an optional filter on row names. Loops are bounded.
 */
import { nativeCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { ManualClock } from "../protocol/manual_clock.ts";
import {
  noiseIdentity,
  PeerInitiator,
} from "../netlayers/noise/peer_handshake.ts";
import { CookieInitiator } from "../netlayers/noise/cookie.ts";
import {
  CookieGate,
  type HandshakeContext,
} from "../netlayers/_noise_tcp_handshake.ts";
import { benchRow, printRow } from "./_measure.ts";
import { handshakeContext } from "./_handshake_context.ts";

/** Rows whose name lacks it are not printed (bench/run.ts passes it). */
const filter: string | undefined = Deno.args[0];

function context(crypto: CryptoProvider): HandshakeContext {
  return handshakeContext(crypto, new ManualClock(0));
}

/** Microseconds per call: the best of several interleaved batches. */
function timeEach(fns: Record<string, () => unknown>, n: number) {
  const best: Record<string, number> = {};
  for (let round = 0; round < 9; round++) {
    for (const [name, fn] of Object.entries(fns)) {
      const start = performance.now();
      for (let i = 0; i < n; i++) fn();
      const us = (performance.now() - start) * 1000 / n;
      best[name] = Math.min(best[name] ?? Infinity, us);
    }
  }
  return best;
}

function benchCookie() {
  const c = nativeCrypto;
  const responder = context(c);
  // Not under load: the threshold is out of reach however fast this loops
  // (a gate at its default 1000 initiations/s would be under load here).
  const gate = new CookieGate(responder, { loadThreshold: Infinity });
  const loaded = new CookieGate(responder, {});
  loaded.forceUnderLoad = true;
  const initiation = new PeerInitiator(c, {
    identity: noiseIdentity(c, c.ed25519.generateKeyPair()),
    remoteIdentity: responder.identity.ed25519.publicKey,
  }).start();
  const cookie = new CookieInitiator(c, {
    remoteStaticPublicKey: responder.identity.x25519.publicKey,
    clock: responder.clock,
  });
  const stamped = cookie.stamp(initiation);
  const verdict = loaded.check(stamped, "127.0.0.1");
  if (verdict.verdict !== "cookie" || !cookie.receiveReply(verdict.reply)) {
    throw new Error("no cookie reply under load");
  }
  const withMac2 = cookie.stamp(initiation);
  const checks: [string, () => unknown][] = [
    ["mac1 only, not under load", () => gate.check(stamped, "127.0.0.1")],
    ["under load, valid mac2", () => loaded.check(withMac2, "127.0.0.1")],
    ["under load, cookie reply", () => loaded.check(stamped, "127.0.0.1")],
  ];
  const us = timeEach({
    hash: () => c.hash("blake2s", stamped),
    ...Object.fromEntries(checks),
  }, 5000);
  for (const [name] of checks) {
    printRow(
      benchRow(`cookie gate check, ${name}`, us[name], "µs/message", [
        "one BLAKE2s of the initiation",
        us.hash,
      ]),
      filter,
    );
  }
}

benchCookie();
