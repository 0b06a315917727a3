/**
 * One `noise-tcp` handshake in flight, for either role
 * (netlayers/_noise_tcp_handshake.ts): its socket and frame reader, the
 * xstate machine of netlayers/noise/handshake_machine.ts (run by
 * protocol/machine_driver.ts) that owns the named timeout, and
 * its registry entry with a deadline (protocol/registry.ts:
 * "handshakes in flight"). Kept apart from the roles so the rules for
 * ending an attempt (exactly once; the entry released, the socket closed
 * and the keys zeroed on failure) read in one place.
 */
import type { Clock } from "../protocol/clock.ts";
import type { CryptoProvider } from "../protocol/crypto.ts";
import type { Hashcode, Registry } from "../protocol/registry.ts";
import type { CookieInitiator } from "./noise/cookie.ts";
import { NoiseError } from "./noise/errors.ts";
import {
  handshakeMachine,
  type HandshakeMachineInput,
} from "./noise/handshake_machine.ts";
import { MachineDriver } from "../protocol/machine_driver.ts";
import type { Established, NoiseIdentity } from "./noise/peer_handshake.ts";
import type { TransportOptions } from "./noise/transport.ts";
import { type Frame, FrameReader, writeAll } from "./_noise_tcp_wire.ts";
import type { SocketLike } from "./_noise_tcp_duplex.ts";

/** The registry kind of a handshake in flight. */
export const HANDSHAKE_KIND = "noise-tcp-handshake";
export interface HandshakeContext {
  readonly crypto: CryptoProvider;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly identity: NoiseIdentity;
  readonly prologue: Uint8Array;
  readonly timeoutMs: number;
  readonly transport: TransportOptions;
  /** Sockets in a handshake phase, so closing the netlayer can cut them. */
  readonly handshaking: Set<SocketLike>;
}

export interface Handshaken {
  readonly socket: SocketLike;
  readonly reader: FrameReader;
  readonly established: Established;
  /** Plaintext of the key-confirmation record (empty from an honest dialer). */
  readonly initial?: Uint8Array;
}

/** One handshake in flight: its socket, its actor, its registry entry. */
export class Attempt {
  readonly ctx: HandshakeContext;
  socket: SocketLike;
  reader: FrameReader;
  actor: MachineDriver<typeof handshakeMachine> | undefined;
  #code: Hashcode;
  #deadline: number;
  /** The machine's pending delayed events (its named timeout). */
  #timers: (() => void)[] = [];
  #failure: Error | undefined;
  #writes: Promise<void> = Promise.resolve();
  #held: Uint8Array[] | undefined;

  constructor(ctx: HandshakeContext, socket: SocketLike, reader: FrameReader) {
    this.ctx = ctx;
    this.socket = socket;
    this.reader = reader;
    ctx.handshaking.add(socket);
    this.#deadline = ctx.clock.now() + ctx.timeoutMs;
    this.#code = ctx.registry.mint(HANDSHAKE_KIND, this, {
      deadline: this.#deadline,
      dispose: (_attempt, why) => {
        if (why === "released") return;
        if (why === "expired" && this.#timers.length > 0) {
          // The machine's own timeout: it fails and reports through #failed.
          for (const fire of this.#timers.splice(0)) fire();
          if (this.#failure) return;
        }
        this.abort(
          why === "expired"
            ? new NoiseError("timeout", "Noise handshake timed out")
            : new NoiseError("closed", "Netlayer closed during the handshake"),
        );
      },
    });
  }

  /**
   * The clock the machine's named timeout runs on: `now()` is the
   * context's, and a timer is this attempt's registry deadline, moved
   * earlier if the timer is due first. The machine's delay and the
   * attempt's limit come from the same `timeoutMs`, so in practice the one
   * registry callback already armed for the entry serves both, where a
   * timer of its own would cost a second one per handshake.
   */
  #machineClock: Clock = {
    now: () => this.ctx.clock.now(),
    schedule: (at: number, fire: () => void): () => void => {
      if (at < this.#deadline && this.ctx.registry.has(this.#code)) {
        this.#deadline = at;
        this.ctx.registry.extend(this.#code, at);
      }
      this.#timers.push(fire);
      return () => {
        const i = this.#timers.indexOf(fire);
        if (i >= 0) this.#timers.splice(i, 1);
      };
    },
  };

  start(
    role: HandshakeMachineInput["role"],
    send: (bytes: Uint8Array) => void,
    cookie?: CookieInitiator,
  ): void {
    this.actor = new MachineDriver(handshakeMachine, {
      crypto: this.ctx.crypto,
      role,
      send,
      cookie,
      timeoutMs: this.ctx.timeoutMs,
      onFailed: (error) => this.#failed(error),
    }, { clock: this.#machineClock });
  }

  /** The machine entered `failed` (and zeroed its keys); it stops by itself. */
  #failed(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    closeQuietly(this.socket);
    this.ctx.handshaking.delete(this.socket);
    this.ctx.registry.release(this.#code);
  }

  /** Queues a frame; while held (between cookie rounds) it waits for the next socket. */
  write(frame: Uint8Array): void {
    if (this.#held) {
      this.#held.push(frame);
      return;
    }
    const socket = this.socket;
    this.#writes = this.#writes.then(() => writeAll(socket, frame)).catch(
      () => {}, // The read side reports a broken socket.
    );
  }

  flushed(): Promise<void> {
    return this.#writes;
  }

  hold(): void {
    this.#held = [];
  }

  /** Moves to a fresh socket and sends what was held; false if nothing was. */
  resume(socket: SocketLike): boolean {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.ctx.handshaking.delete(this.socket);
    closeQuietly(this.socket);
    this.socket = socket;
    this.reader = new FrameReader(socket);
    this.ctx.handshaking.add(socket);
    for (const frame of held) this.write(frame);
    return held.length > 0;
  }

  state(): string {
    return String(this.actor?.getSnapshot().value);
  }

  established(): Established | undefined {
    return this.actor?.getSnapshot().context.established;
  }

  /** The first failure, if any; the socket is closed so a pending read ends. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  abort(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    closeQuietly(this.socket);
    this.#end(true);
  }

  /** Success: the entry is released and the actor stopped; the keys live on. */
  complete(): void {
    this.#end(false);
  }

  #end(failed: boolean): void {
    this.ctx.handshaking.delete(this.socket);
    this.ctx.registry.release(this.#code);
    const actor = this.actor;
    if (actor) {
      // CLOSE zeroes every key the handshake holds, a made transport included.
      if (failed && actor.getSnapshot().status === "active") {
        actor.send({ type: "CLOSE" });
      }
      actor.stop();
    }
  }

  /** Throws the recorded failure, or `fallback` if there is none yet. */
  fail(fallback: Error): never {
    this.abort(fallback);
    throw this.#failure;
  }
}

export function closeQuietly(socket: SocketLike): void {
  try {
    socket.close();
  } catch {
    // Already closed.
  }
}

export async function nextFrame(
  attempt: Attempt,
  allowed: readonly number[],
): Promise<Frame | null> {
  try {
    return await attempt.reader.next(allowed);
  } catch (error) {
    if (error instanceof NoiseError) attempt.fail(error);
    // The socket itself failed (reset by the peer, or closed under us by
    // the netlayer's close): the handshake is over, and says so by code.
    attempt.fail(
      new NoiseError(
        "closed",
        `Connection ended during the handshake: ${(error as Error)?.message}`,
      ),
    );
  }
}
