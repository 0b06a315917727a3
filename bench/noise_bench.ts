/**
 * Noise handshakes per backend against their floor: the same primitive
 * calls a handshake makes (recorded from one real run), replayed back to
 * back with none of the Noise bookkeeping. The ratio is the overhead of
 * netlayers/noise itself. Also the cookie gate's per-message cost against
 * one bare BLAKE2s of the same bytes.
 *
 * Whole sessions (the netlayer's handshake plus op:start-session, beside
 * their floor and @chainsafe/libp2p-noise) are bench/session_script.ts.
 */
import { nativeCrypto, nobleCrypto } from "../crypto/mod.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import {
  type NoiseIdentity,
  noiseIdentity,
  PeerInitiator,
  PeerResponder,
} from "../netlayers/noise/peer_handshake.ts";
import { CookieInitiator, CookieResponder } from "../netlayers/noise/cookie.ts";
import { ManualClock } from "../protocol/manual_clock.ts";
import { recording } from "./_recording.ts";

function handshake(
  c: CryptoProvider,
  alice: NoiseIdentity,
  bob: NoiseIdentity,
  ik: boolean,
): void {
  const dialer = new PeerInitiator(c, {
    identity: alice,
    remoteIdentity: ik ? bob.ed25519.publicKey : undefined,
  });
  const responder = new PeerResponder(c, { identity: bob });
  const r = responder.receive(dialer.start());
  const d = dialer.receive(r.reply);
  const established = r.established ?? responder.finish(d.reply!);
  d.established.transport.close();
  established.transport.close();
}

for (const c of [nativeCrypto, nobleCrypto]) {
  const alice = noiseIdentity(c, c.ed25519.generateKeyPair());
  const bob = noiseIdentity(c, c.ed25519.generateKeyPair());
  for (const ik of [true, false]) {
    const pattern = ik ? "IK" : "XX";
    const log: (() => unknown)[] = [];
    // The floor records a repeat handshake, as the timed ones are: the
    // first between two identities also fills their static-static caches
    // (netlayers/noise/static_static.ts), two Diffie-Hellmans that IK's
    // later handshakes skip; recorded, they put the floor above the
    // handshake it is the floor of.
    handshake(c, alice, bob, ik);
    handshake(recording(c, log), alice, bob, ik);
    const group = `noise-${pattern}-${c.name}`;
    Deno.bench({
      name: `${pattern} primitive floor (${log.length} calls), ${c.name}`,
      group,
      baseline: true,
      fn: () => {
        for (const op of log) op();
      },
    });
    Deno.bench({
      name: `${pattern} complete handshake, ${c.name}`,
      group,
      fn: () => handshake(c, alice, bob, ik),
    });
  }
}

{
  const c = nativeCrypto;
  const clock = new ManualClock(0);
  const bob = noiseIdentity(c, c.ed25519.generateKeyPair());
  const gate = new CookieResponder(c, {
    staticPublicKey: bob.x25519.publicKey,
    clock,
    loadThreshold: Infinity,
  });
  const loaded = new CookieResponder(c, {
    staticPublicKey: bob.x25519.publicKey,
    clock,
  });
  loaded.forceUnderLoad = true;
  const cookie = new CookieInitiator(c, {
    remoteStaticPublicKey: bob.x25519.publicKey,
    clock,
  });
  const initiation = new PeerInitiator(c, {
    identity: noiseIdentity(c, c.ed25519.generateKeyPair()),
    remoteIdentity: bob.ed25519.publicKey,
  }).start();
  const plain = cookie.stamp(initiation);
  const v = loaded.check(plain, "192.0.2.1:1");
  if (v.verdict === "cookie") cookie.receiveReply(v.reply);
  const withMac2 = cookie.stamp(initiation);
  Deno.bench({
    name: "one BLAKE2s of the initiation",
    group: "noise-cookie",
    baseline: true,
    fn: () => {
      c.hash("blake2s", initiation);
    },
  });
  Deno.bench({
    name: "cookie check, not under load (mac1)",
    group: "noise-cookie",
    fn: () => {
      gate.check(plain, "192.0.2.1:1");
    },
  });
  Deno.bench({
    name: "cookie check under load, valid mac2",
    group: "noise-cookie",
    fn: () => {
      loaded.check(withMac2, "192.0.2.1:1");
    },
  });
  Deno.bench({
    name: "cookie check under load, cookie reply",
    group: "noise-cookie",
    fn: () => {
      loaded.check(plain, "192.0.2.9:1");
    },
  });
}
