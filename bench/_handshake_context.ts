/**
 * A noise-tcp HandshakeContext (netlayers/_noise_tcp_handshake.ts) with a
 * fresh identity, as the netlayer builds one, for the benches that drive
 * the handshake code without sockets.
 */
import type { Clock } from "../protocol/clock.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import { Registry } from "../protocol/registry.ts";
import { noiseIdentity } from "../netlayers/noise/peer_handshake.ts";
import type { HandshakeContext } from "../netlayers/_noise_tcp_handshake.ts";
import { NOISE_TCP_PROLOGUE } from "../netlayers/noise_tcp.ts";

export function handshakeContext(
  crypto: CryptoProvider,
  clock: Clock,
): HandshakeContext {
  return {
    crypto,
    clock,
    registry: new Registry({ clock }),
    identity: noiseIdentity(crypto, crypto.ed25519.generateKeyPair()),
    prologue: NOISE_TCP_PROLOGUE,
    timeoutMs: 5000,
    transport: {},
    handshaking: new Set(),
  };
}
