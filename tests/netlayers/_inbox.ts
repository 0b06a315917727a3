/**
 * Test helper: attaches to a Connection and turns its events into promises,
 * so tests wait on what arrived instead of sleeping.
 */

import type { Connection } from "../../netlayers/types.ts";
import type { SyrupValue } from "../../protocol/syrup/value.ts";

export class Inbox {
  readonly messages: SyrupValue[] = [];
  readonly error: Promise<Error>;
  readonly closeReason: Promise<Error | undefined>;
  /** Called inside the connection's error event, before the inbox records it. */
  onError: ((error: Error) => void) | undefined;
  #cursor = 0;
  #waiter: { n: number; resolve: () => void } | undefined;

  constructor(connection: Connection) {
    let onError!: (error: Error) => void;
    let onClose!: (reason?: Error) => void;
    this.error = new Promise((resolve) => onError = resolve);
    this.closeReason = new Promise((resolve) => onClose = resolve);
    connection.attach({
      message: (value) => {
        this.messages.push(value);
        this.#check();
      },
      error: (error) => {
        this.onError?.(error);
        onError(error);
      },
      close: (reason) => onClose(reason),
    });
  }

  /** The next `n` messages, once they have all arrived. */
  async take(n: number): Promise<SyrupValue[]> {
    if (this.messages.length - this.#cursor < n) {
      await new Promise<void>((resolve) => {
        this.#waiter = { n, resolve };
      });
    }
    const taken = this.messages.slice(this.#cursor, this.#cursor + n);
    this.#cursor += n;
    return taken;
  }

  #check(): void {
    const waiter = this.#waiter;
    if (waiter && this.messages.length - this.#cursor >= waiter.n) {
      this.#waiter = undefined;
      waiter.resolve();
    }
  }
}
