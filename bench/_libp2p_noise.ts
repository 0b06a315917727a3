/**
 * Drives two @chainsafe/libp2p-noise handshakes (Noise_XX_25519_ChaChaPoly_
 * SHA256 with libp2p's signed identity payload) against each other in
 * memory, as the same-run comparison issue 6 asks for beside our own session
 * establishment. A dev-only dependency: nothing outside bench/ imports it.
 *
 * The least libp2p needed: an Ed25519 private key per side, a logger, an
 * upgrader that offers no stream muxers, and the in-memory connection pair
 * from @libp2p/utils (its queue delay set to zero, so only the handshake's
 * own work and its promise hops are measured).
 */
import { noise } from "@chainsafe/libp2p-noise";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { defaultLogger } from "@libp2p/logger";
import { multiaddrConnectionPair } from "@libp2p/utils";

type Encrypter = ReturnType<ReturnType<typeof noise>>;

interface Party {
  readonly peerId: ReturnType<typeof peerIdFromPrivateKey>;
  readonly encrypter: Encrypter;
}

async function party(): Promise<Party> {
  const privateKey = await generateKeyPair("Ed25519");
  const components = {
    privateKey,
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() },
  };
  return {
    peerId: peerIdFromPrivateKey(privateKey),
    encrypter: noise()(
      components as unknown as Parameters<
        ReturnType<typeof noise>
      >[0],
    ),
  };
}

/** Two libp2p-noise peers; `handshake()` runs one complete XX between them. */
export async function libp2pNoisePair(): Promise<
  { handshake: () => Promise<void> }
> {
  const [dialer, listener] = [await party(), await party()];
  const handshake = async () => {
    const [outbound, inbound] = multiaddrConnectionPair({ delay: 0 });
    const [a, b] = await Promise.all([
      dialer.encrypter.secureOutbound(outbound, {
        remotePeer: listener.peerId,
        skipStreamMuxerNegotiation: true,
      }),
      listener.encrypter.secureInbound(inbound, {
        skipStreamMuxerNegotiation: true,
      }),
    ]);
    if (
      !a.remotePeer.equals(listener.peerId) ||
      !b.remotePeer.equals(dialer.peerId)
    ) {
      throw new Error("libp2p-noise authenticated the wrong peer");
    }
    await Promise.all([outbound.close(), inbound.close()]);
  };
  return { handshake };
}
