/**
 * Noise Protocol Framework rev. 34, sections 5.3 (HandshakeState), 7 (the
 * patterns NK, XK, IK, XX) and 9 (psk modifiers): a HandshakeState that
 * interprets message patterns token by token. OCapN peers use IK when the
 * dialer knows the responder's key from its locator and XX when not; the
 * other patterns are here so every published vector can be replayed.
 * Only DH 25519 and cipher ChaChaPoly exist; the hash is a parameter.
 */
import { concatBytes } from "../../protocol/bytes.ts";
import type { CryptoProvider, KeyPair } from "../../protocol/crypto.ts";
import { NoiseError } from "./errors.ts";
import type { StaticStaticCache } from "./static_static.ts";
import { type CipherState, SymmetricState } from "./symmetric.ts";

type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

interface Pattern {
  /** Keys the initiator knows of the responder before the first message. */
  readonly responderPremessage: boolean;
  /** Message patterns; even indices are sent by the initiator. */
  readonly messages: readonly (readonly Token[])[];
}

const PATTERNS: Record<string, Pattern> = {
  NK: { responderPremessage: true, messages: [["e", "es"], ["e", "ee"]] },
  XK: {
    responderPremessage: true,
    messages: [["e", "es"], ["e", "ee"], ["s", "se"]],
  },
  IK: {
    responderPremessage: true,
    messages: [["e", "es", "s", "ss"], ["e", "ee", "se"]],
  },
  XX: {
    responderPremessage: false,
    messages: [["e"], ["e", "ee", "s", "es"], ["s", "se"]],
  },
};

const DHLEN = 32;
const TAGLEN = 16;
/** Section 3: no Noise message exceeds 65535 bytes. */
export const MAX_MESSAGE = 65535;

export interface ParsedName {
  readonly pattern: string;
  readonly hash: string;
  readonly psks: readonly number[];
}

/** Splits "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s" into its parts. */
export function parseProtocolName(name: string): ParsedName {
  const m = /^Noise_([A-Z]+)((?:psk\d)(?:\+psk\d)*)?_25519_ChaChaPoly_(\w+)$/
    .exec(name);
  if (m === null || !(m[1] in PATTERNS)) {
    throw new RangeError(`Unsupported Noise protocol "${name}"`);
  }
  const psks = m[2] ? m[2].split("+").map((p) => Number(p.slice(3))) : [];
  return { pattern: m[1], hash: m[3], psks };
}

function withPsks(pattern: Pattern, psks: readonly number[]): Token[][] {
  const messages = pattern.messages.map((m) => [...m]);
  for (const p of psks) {
    // Section 9.2: psk0 leads the first message, pskN ends message N.
    if (p === 0) messages[0].unshift("psk");
    else messages[p - 1].push("psk");
  }
  return messages;
}

interface Compiled {
  readonly parsed: ParsedName;
  readonly pattern: Pattern;
  readonly messages: readonly (readonly Token[])[];
}

/**
 * Each protocol name parsed and its token lists built once: every handshake
 * starts here, and the name alone decides them (they are never mutated).
 */
const compiledNames = new Map<string, Compiled>();

function compile(protocolName: string): Compiled {
  let found = compiledNames.get(protocolName);
  if (found === undefined) {
    const parsed = parseProtocolName(protocolName);
    const pattern = PATTERNS[parsed.pattern];
    found = { parsed, pattern, messages: withPsks(pattern, parsed.psks) };
    compiledNames.set(protocolName, found);
  }
  return found;
}

export interface HandshakeOptions {
  readonly initiator: boolean;
  readonly prologue?: Uint8Array;
  /** Our static key pair (X25519). */
  readonly s?: KeyPair;
  /** A fixed ephemeral key pair; only test vectors pass one. */
  readonly e?: KeyPair;
  /** The remote static public key, when known in advance. */
  readonly rs?: Uint8Array;
  readonly psks?: readonly Uint8Array[];
  /** Where `ss` results for our static key `s` are kept (static_static.ts). */
  readonly staticStatic?: StaticStaticCache;
}

export interface SplitResult {
  /** The cipher for messages we send. */
  readonly send: CipherState;
  /** The cipher for messages we receive. */
  readonly receive: CipherState;
  readonly handshakeHash: Uint8Array;
}

export class HandshakeState {
  readonly protocolName: string;
  readonly initiator: boolean;
  #crypto: CryptoProvider;
  #ss: SymmetricState;
  #messages: readonly (readonly Token[])[];
  #index = 0;
  #psk: boolean;
  #psks: Uint8Array[];
  #s?: KeyPair;
  #e?: KeyPair;
  #rs?: Uint8Array;
  #re?: Uint8Array;
  #staticStatic?: StaticStaticCache;

  constructor(
    crypto: CryptoProvider,
    protocolName: string,
    options: HandshakeOptions,
  ) {
    const { parsed, pattern, messages } = compile(protocolName);
    this.protocolName = protocolName;
    this.initiator = options.initiator;
    this.#crypto = crypto;
    this.#ss = new SymmetricState(crypto, protocolName, parsed.hash);
    this.#messages = messages;
    this.#psk = parsed.psks.length > 0;
    this.#psks = (options.psks ?? []).map((p) => p.slice());
    if (this.#psks.length !== parsed.psks.length) {
      throw new RangeError(
        `Expected ${parsed.psks.length} psks for "${protocolName}"`,
      );
    }
    this.#s = options.s;
    this.#e = options.e;
    this.#rs = options.rs;
    this.#staticStatic = options.staticStatic;
    this.#ss.mixHash(options.prologue ?? new Uint8Array(0));
    if (pattern.responderPremessage) {
      const rs = this.initiator ? this.#rs : this.#s?.publicKey;
      if (rs === undefined) {
        throw new TypeError(`"${protocolName}" needs the responder static key`);
      }
      this.#ss.mixHash(rs);
    }
  }

  /** True once every message pattern has been written or read. */
  get complete(): boolean {
    return this.#index >= this.#messages.length;
  }

  /** Whose turn it is: true when the next message is ours to write. */
  get ourTurn(): boolean {
    return !this.complete && (this.#index % 2 === 0) === this.initiator;
  }

  get remoteStatic(): Uint8Array | undefined {
    return this.#rs?.slice();
  }

  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (!this.ourTurn) {
      throw new NoiseError("unexpected-message", "Not our turn to write");
    }
    const parts: Uint8Array[] = [];
    for (const token of this.#messages[this.#index]) {
      if (token === "e") {
        this.#e ??= this.#crypto.x25519.generateKeyPair();
        parts.push(this.#e.publicKey);
        this.#mixEphemeral(this.#e.publicKey);
      } else if (token === "s") {
        parts.push(this.#ss.encryptAndHash(this.#need(this.#s).publicKey));
      } else {
        this.#mixToken(token);
      }
    }
    parts.push(this.#ss.encryptAndHash(payload));
    this.#index++;
    return concatBytes(parts);
  }

  /** Returns the payload; throws NoiseError on any bad byte. */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.complete || this.ourTurn) {
      throw new NoiseError("unexpected-message", "Not expecting a message");
    }
    if (message.length > MAX_MESSAGE) {
      throw new NoiseError(
        "bad-length",
        `Message of "${message.length}" bytes`,
      );
    }
    let at = 0;
    const take = (n: number): Uint8Array => {
      if (at + n > message.length) {
        throw new NoiseError("bad-length", `Message truncated at byte ${at}`);
      }
      return message.subarray(at, at += n);
    };
    for (const token of this.#messages[this.#index]) {
      if (token === "e") {
        this.#re = take(DHLEN).slice();
        this.#mixEphemeral(this.#re);
      } else if (token === "s") {
        const len = this.#ss.cipher.hasKey() ? DHLEN + TAGLEN : DHLEN;
        this.#rs = this.#ss.decryptAndHash(take(len)).slice();
      } else {
        this.#mixToken(token);
      }
    }
    if (message.length - at < (this.#ss.cipher.hasKey() ? TAGLEN : 0)) {
      throw new NoiseError("bad-length", `Message truncated at byte ${at}`);
    }
    const payload = this.#ss.decryptAndHash(message.subarray(at));
    this.#index++;
    return payload;
  }

  /** The transport ciphers, once complete; the handshake keys are zeroed. */
  split(): SplitResult {
    if (!this.complete) {
      throw new NoiseError("unexpected-message", "Handshake is not complete");
    }
    const handshakeHash = this.#ss.handshakeHash;
    const [c1, c2] = this.#ss.split();
    this.destroy();
    return this.initiator
      ? { send: c1, receive: c2, handshakeHash }
      : { send: c2, receive: c1, handshakeHash };
  }

  /** Zeroes the ephemeral secret, psks and symmetric state. */
  destroy(): void {
    this.#e?.secretKey.fill(0);
    for (const p of this.#psks) p.fill(0);
    this.#ss.destroy();
  }

  #mixEphemeral(publicKey: Uint8Array): void {
    this.#ss.mixHash(publicKey);
    // Section 9.2: with a psk, e also feeds the key.
    if (this.#psk) this.#ss.mixKey(publicKey);
  }

  #mixToken(token: Exclude<Token, "e" | "s">): void {
    if (token === "psk") {
      this.#ss.mixKeyAndHash(this.#need(this.#psks.shift()));
      return;
    }
    // The first letter names the initiator's key, the second the responder's.
    const [ours, theirs] = this.initiator
      ? [token[0], token[1]]
      : [token[1], token[0]];
    const mine = ours === "e" ? this.#e : this.#s;
    const remote = theirs === "e" ? this.#re : this.#rs;
    const secret = this.#need(mine).secretKey;
    const pub = this.#need(remote);
    const dh = () => {
      try {
        return this.#crypto.x25519.sharedSecret(secret, pub);
      } catch {
        throw new NoiseError("bad-key", "Peer public key is of low order");
      }
    };
    const cache = token === "ss" ? this.#staticStatic : undefined;
    if (cache !== undefined) {
      // The cache owns the secret (it zeroes it on eviction). Its copy of rs
      // is the same array every time, so the backend's key object for it
      // is built once, not per handshake.
      const entry = cache.get(pub, dh);
      this.#rs = entry.remoteStatic;
      this.#ss.mixKey(entry.secret);
      return;
    }
    const shared = dh();
    this.#ss.mixKey(shared);
    shared.fill(0);
  }

  #need<T>(value: T | undefined): T {
    if (value === undefined) {
      throw new TypeError(`A key "${this.protocolName}" needs is missing`);
    }
    return value;
  }
}
