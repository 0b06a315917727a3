/**
 * Hands accepted connections to the `onAccept` handler, keeping those that
 * arrive before a handler is set (netlayers/types.ts, `Netlayer.onAccept`),
 * so a listener can start before the runtime is wired to it.
 */

import type { Connection } from "./types.ts";

export class AcceptQueue {
  #handler: ((connection: Connection) => void) | undefined;
  #waiting: Connection[] = [];

  setHandler(handler: (connection: Connection) => void): void {
    if (typeof handler !== "function") {
      throw new TypeError("Accept handler must be a function");
    }
    this.#handler = handler;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const connection of waiting) this.#hand(connection);
  }

  push(connection: Connection): void {
    if (this.#handler) this.#hand(connection);
    else this.#waiting.push(connection);
  }

  #hand(connection: Connection): void {
    try {
      this.#handler!(connection);
    } catch (error) {
      // A handler that throws has not taken the connection: drop it.
      connection.close(
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  }
}
