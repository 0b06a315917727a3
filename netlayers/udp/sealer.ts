/**
 * Seals one direction's datagrams (wire.ts layout): owns the key and the
 * packet-number counter, so every datagram of a direction, data, ack or
 * ping, gets a number never used before with that key (the AEAD nonce).
 * Scratch header and nonce buffers are reused; the AEAD interface returns a
 * fresh ciphertext, so the datagram costs one copy of it behind the header.
 */
import type { CryptoProvider } from "../../protocol/crypto.ts";
import {
  CONTROL_HEADER_LENGTH,
  DATA_HEADER_LENGTH,
  type DataHeader,
  NONCE_LENGTH,
  nonceFrom,
  writeControlHeader,
  writeDataHeader,
} from "./wire.ts";

export class DatagramSealer {
  #crypto: CryptoProvider;
  #key: Uint8Array;
  #remote: number;
  #nonce = new Uint8Array(NONCE_LENGTH);
  #header = new Uint8Array(DATA_HEADER_LENGTH);
  #control = new Uint8Array(CONTROL_HEADER_LENGTH);
  #pn = 0;

  constructor(
    crypto: CryptoProvider,
    options: { key: Uint8Array; remoteSession: number },
  ) {
    this.#crypto = crypto;
    this.#key = options.key;
    this.#remote = options.remoteSession;
  }

  /** The number the next datagram will carry. */
  get nextPacketNumber(): number {
    return this.#pn;
  }

  /** A data datagram carrying `payload`; `header` lacks session and pn. */
  data(
    header: Omit<DataHeader, "session" | "packetNumber">,
    payload: Uint8Array,
  ): Uint8Array {
    writeDataHeader(this.#header, {
      ...header,
      session: this.#remote,
      packetNumber: this.#pn++,
    });
    return this.#seal(this.#header, payload);
  }

  /** An ack or ping datagram with `body` sealed. */
  control(type: number, body: Uint8Array): Uint8Array {
    writeControlHeader(this.#control, type, {
      session: this.#remote,
      packetNumber: this.#pn++,
    });
    return this.#seal(this.#control, body);
  }

  /** Zeroes the key; later calls seal garbage nobody can open. */
  zero(): void {
    this.#key.fill(0);
  }

  #seal(header: Uint8Array, payload: Uint8Array): Uint8Array {
    nonceFrom(header, this.#nonce);
    const sealed = this.#crypto.aead.seal(
      this.#key,
      this.#nonce,
      payload,
      header,
    );
    const datagram = new Uint8Array(header.length + sealed.length);
    datagram.set(header);
    datagram.set(sealed, header.length);
    return datagram;
  }
}
