/**
 * The exporter's half of third-party handoffs (CapTP draft, "Third-party
 * handoffs", the bootstrap object's deposit-gift and withdraw-gift;
 * shared/ocapn-notes.md "Third-party handoffs", step 4): the vat-wide
 * `GiftExchange` that bootstrap.ts calls.
 *
 * Why it exists: a gift is deposited in one session (gifter-exporter) and
 * withdrawn in another (receiver-exporter), in either order, so the
 * pairing is vat-wide state. Each gift is one handoff_machine.ts machine and
 * one registry entry; its deadlines are registry entries too, so a test
 * can end by asserting the registry is empty. Handoff counts are
 * remembered per receiving session and never accepted twice there.
 *
 * A gift id names one gift in its gifter-exporter session (the draft calls
 * it unique; it says nothing of a second deposit). The first deposit
 * stands: a duplicate deposit is refused while the gift waits and after it
 * was handed out, and a withdraw of a gift already handed out is refused
 * at once instead of waiting for a deposit that must not come. deposit-gift
 * carries no answer in the draft, so the refusal reaches the gifter only
 * when it asked for one; either way nothing is kept for it.
 */

import type { CryptoProvider } from "../crypto.ts";
import { MachineDriver } from "../machine_driver.ts";
import type { Registry } from "../registry.ts";
import type { SyrupValue } from "../syrup/value.ts";
import type { GiftExchange } from "./bootstrap.ts";
import { HandoffError, type HandoffFailure } from "./errors.ts";
import { checkWithdraw, giftKey, type HandoffSessionView } from "./handoff.ts";
import { giftMachine } from "./handoff_machine.ts";

export interface GiftTableOptions {
  registry: Registry;
  crypto: CryptoProvider;
  /** The open session with this session ID (the gifter-exporter one). */
  findSession(id: Uint8Array): HandoffSessionView | undefined;
  /** How long a deposit waits for its withdraw (default 60 s). */
  depositMs?: number;
  /** How long a withdraw waits for its deposit (default 30 s). */
  withdrawMs?: number;
}

interface Gift {
  actor: MachineDriver<typeof giftMachine>;
  code: number;
  /** Sessions whose closing cancels the gift. */
  sessions: Set<object>;
}

const MESSAGES: Partial<Record<HandoffFailure, string>> = {
  "gift-never-deposited": "the gift was not deposited before the deadline",
  "gift-already-withdrawn": "the gift was already withdrawn or is awaited",
  "gift-already-deposited": "a gift was already deposited under this gift-id",
  "session-closed": "a session of the handoff closed",
};

const failed = (failure: HandoffFailure): HandoffError =>
  new HandoffError(failure, MESSAGES[failure] ?? failure);

const refuse = (failure: HandoffFailure): never => {
  throw failed(failure);
};

export class GiftTable implements GiftExchange {
  #o: GiftTableOptions;
  #gifts = new Map<string, Gift>();
  /** Handoff counts used, per receiving session (chosen by the receiver). */
  #counts = new WeakMap<object, Set<bigint>>();
  /** Gift keys handed out, per gifter-exporter session (chosen by the gifter). */
  #retired = new WeakMap<object, Set<string>>();

  constructor(options: GiftTableOptions) {
    this.#o = options;
  }

  depositGift(giftId: unknown, ref: unknown, session?: object): void {
    const view = session as HandoffSessionView | undefined;
    if (view?.id === undefined) {
      throw new TypeError("deposit-gift needs the session it arrived on");
    }
    if (!(giftId instanceof Uint8Array) && typeof giftId !== "string") {
      throw new TypeError(`gift-id must be bytes or a string`);
    }
    const key = giftKey(view.id, giftId as SyrupValue);
    if (this.#retired.get(view)?.has(key)) refuse("gift-already-deposited");
    let refused: HandoffFailure | undefined;
    this.#gift(key, view, [view]).actor.send({
      type: "deposit",
      ref,
      refuse: (failure) => {
        refused = failure;
      },
    });
    if (refused !== undefined) refuse(refused);
  }

  withdrawGift(signedReceive: unknown, session?: object): Promise<unknown> {
    const view = session as HandoffSessionView | undefined;
    if (view?.id === undefined) {
      return Promise.reject(
        new TypeError("withdraw-gift needs the session it arrived on"),
      );
    }
    let used = this.#counts.get(view);
    if (used === undefined) this.#counts.set(view, used = new Set());
    const counts = used;
    let receive;
    try {
      receive = checkWithdraw(signedReceive, view, {
        crypto: this.#o.crypto,
        findSession: this.#o.findSession,
        countUsed: (count) => counts.has(count),
      });
    } catch (error) {
      return Promise.reject(error);
    }
    counts.add(receive.fields.handoffCount);
    const give = receive.give.fields;
    const gifter = this.#o.findSession(give.session)!;
    const key = giftKey(give.session, give.giftId);
    if (this.#retired.get(gifter)?.has(key)) {
      return Promise.reject(failed("gift-already-withdrawn"));
    }
    const kit = Promise.withResolvers<unknown>();
    this.#gift(key, gifter, [gifter, view]).actor.send({
      type: "withdraw",
      waiter: {
        resolve: kit.resolve,
        reject: (failure) => kit.reject(failed(failure)),
      },
    });
    return kit.promise;
  }

  /** Cancels every gift that depends on `session`; forgets its counts. */
  sessionClosed(session: object): void {
    this.#counts.delete(session);
    this.#retired.delete(session);
    for (const gift of [...this.#gifts.values()]) {
      if (gift.sessions.has(session)) {
        gift.actor.send({ type: "cancel", reason: "session closed" });
      }
    }
  }

  /** Gifts in flight (deposited or awaited). */
  get size(): number {
    return this.#gifts.size;
  }

  /** The gift under `key`; `gifter` is the session whose gift ids it uses. */
  #gift(key: string, gifter: object, sessions: object[]): Gift {
    const existing = this.#gifts.get(key);
    if (existing !== undefined) {
      for (const s of sessions) existing.sessions.add(s);
      return existing;
    }
    const { registry } = this.#o;
    const gift = { sessions: new Set(sessions) } as Gift;
    gift.code = registry.mint("captp.gift", key);
    const machine = giftMachine.provide({
      actions: {
        retireGiftId: () => {
          let retired = this.#retired.get(gifter);
          if (retired === undefined) {
            this.#retired.set(gifter, retired = new Set());
          }
          retired.add(key);
        },
        release: () => {
          if (this.#gifts.get(key) === gift) this.#gifts.delete(key);
          registry.release(gift.code);
        },
      },
    });
    this.#gifts.set(key, gift);
    gift.actor = new MachineDriver(machine, {
      depositMs: this.#o.depositMs ?? 60_000,
      withdrawMs: this.#o.withdrawMs ?? 30_000,
    }, { clock: registry.timers("captp.gift.deadline", key) });
    return gift;
  }
}
