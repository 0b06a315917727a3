/**
 * The bootstrap object at export position 0 of every session, and the
 * vat-wide table of objects published under swiss numbers (CapTP draft,
 * "The bootstrap object"; Locators.md "Sturdyrefs").
 *
 * Why it exists: `fetch` is how a sturdyref becomes a live reference, and
 * `deposit-gift` / `withdraw-gift` are the exporter's half of third-party
 * handoffs: the two methods call the vat's `GiftExchange` (gifts.ts) with
 * the session they arrived on, and break with NotImplementedError when the
 * vat has none.
 */

import { NotImplementedError, UnknownSwissNumberError } from "./errors.ts";

const utf8 = new TextEncoder();

/** Swiss numbers arrive as bytes (suite, Goblins) or strings (draft text). */
function swissKey(swiss: unknown): string | undefined {
  const bytes = typeof swiss === "string"
    ? utf8.encode(swiss)
    : swiss instanceof Uint8Array
    ? swiss
    : undefined;
  if (bytes === undefined) return undefined;
  let key = "";
  for (const b of bytes) key += b.toString(16).padStart(2, "0");
  return key;
}

/** Objects a vat publishes by swiss number; shared by all its sessions. */
export class SwissTable {
  #objects = new Map<string, unknown>();
  #random: (n: number) => Uint8Array;

  constructor(options: { randomBytes: (n: number) => Uint8Array }) {
    this.#random = options.randomBytes;
  }

  /**
   * Publishes `ref`; returns its swiss number (fresh random 32 bytes of
   * URL-safe ASCII unless given).
   */
  publish(ref: unknown, swiss?: Uint8Array | string): Uint8Array {
    const bytes = swiss === undefined
      ? randomSwiss(this.#random)
      : typeof swiss === "string"
      ? utf8.encode(swiss)
      : swiss;
    this.#objects.set(swissKey(bytes)!, ref);
    return bytes;
  }

  unpublish(swiss: Uint8Array | string): boolean {
    const key = swissKey(swiss);
    return key !== undefined && this.#objects.delete(key);
  }

  lookup(swiss: unknown): unknown {
    const key = swissKey(swiss);
    return key === undefined ? undefined : this.#objects.get(key);
  }

  get size(): number {
    return this.#objects.size;
  }
}

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function randomSwiss(random: (n: number) => Uint8Array): Uint8Array {
  const raw = random(32);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = ALPHABET.charCodeAt(raw[i] & 63);
  raw.fill(0);
  return out;
}

/**
 * The exporter's half of handoffs (gifts.ts). `session` is the CapTP
 * session the message arrived on: the gifter-exporter session for a
 * deposit, the receiver-exporter session for a withdraw.
 */
export interface GiftExchange {
  depositGift(giftId: unknown, ref: unknown, session?: object): void;
  withdrawGift(signedReceive: unknown, session?: object): Promise<unknown>;
}

const FETCH = Symbol.for("fetch");
const DEPOSIT_GIFT = Symbol.for("deposit-gift");
const WITHDRAW_GIFT = Symbol.for("withdraw-gift");

/**
 * Handles a message to export 0. The engine calls this directly (the
 * bootstrap object is part of the session, not a vat object).
 */
export function deliverToBootstrap(
  args: unknown[],
  options: { swiss: SwissTable; gifts?: GiftExchange; session?: object },
): Promise<unknown> {
  const [method, ...rest] = args;
  if (method === FETCH) {
    const found = options.swiss.lookup(rest[0]);
    return found === undefined
      ? Promise.reject(new UnknownSwissNumberError())
      : Promise.resolve(found);
  }
  if (method === DEPOSIT_GIFT) {
    if (options.gifts === undefined) {
      return Promise.reject(new NotImplementedError("deposit-gift"));
    }
    try {
      options.gifts.depositGift(rest[0], rest[1], options.session);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(undefined);
  }
  if (method === WITHDRAW_GIFT) {
    return options.gifts === undefined
      ? Promise.reject(new NotImplementedError("withdraw-gift"))
      : options.gifts.withdrawGift(rest[0], options.session);
  }
  return Promise.reject(
    new TypeError("The bootstrap object has no such method"),
  );
}
