/**
 * A `noise-tcp` connection after its handshake: a StreamConnection whose
 * byte stream is the plaintext of Noise transport records
 * (netlayers/_noise_tcp_duplex.ts). A bad record closes it with the
 * NoiseError as the close reason; releasing the socket zeroes the keys.
 */
import { encodeBase32 } from "../protocol/base32.ts";
import {
  StreamConnection,
  type StreamConnectionOptions,
} from "./stream_connection.ts";
import { NoiseDuplex } from "./_noise_tcp_duplex.ts";
import type { Handshaken } from "./_noise_tcp_handshake.ts";

export class NoiseConnection extends StreamConnection {
  /** The peer's Ed25519 public key, proved by the handshake. */
  readonly remoteIdentity: Uint8Array;
  readonly #duplex: NoiseDuplex;

  constructor(done: Handshaken, options: StreamConnectionOptions) {
    const duplex = new NoiseDuplex(done.socket, {
      reader: done.reader,
      transport: done.established.transport,
      initial: done.initial,
    });
    super(duplex, options);
    this.#duplex = duplex;
    duplex.onFailure = (error) => this.transportEnded(error);
    this.remoteIdentity = done.established.remoteIdentity;
  }

  /** The peer's designator in `noise-tcp` locators. */
  get remoteDesignator(): string {
    return encodeBase32(this.remoteIdentity);
  }

  /** True once the session's transport keys have been zeroed. */
  get keysZeroed(): boolean {
    return this.#duplex.keysZeroed;
  }
}
