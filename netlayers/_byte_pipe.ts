/**
 * An in-memory byte pipe whose ends are SocketLike (as Deno.TcpConn is), so
 * the `noise-tcp` handshake and transport code can run without sockets:
 * the session-establishment bench (bench/session_script.ts) times it this
 * way, and tests drive it the same way. Writes are copied, reads may be
 * partial, and closing either end is an end of stream for both.
 */
import type { SocketLike } from "./_noise_tcp_duplex.ts";

/** One end of an in-memory byte pipe. */
export class PipeEnd implements SocketLike {
  peer!: PipeEnd;
  #chunks: Uint8Array[] = [];
  #eof = false;
  #wake: (() => void) | undefined;

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#eof) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return n;
  }
  write(bytes: Uint8Array): Promise<number> {
    this.peer.#push(bytes.slice());
    return Promise.resolve(bytes.length);
  }
  closeWrite(): Promise<void> {
    this.peer.#end();
    return Promise.resolve();
  }
  close(): void {
    this.peer.#end();
    this.#end();
  }
  #push(bytes: Uint8Array) {
    this.#chunks.push(bytes);
    this.#wake?.();
  }
  #end() {
    this.#eof = true;
    this.#wake?.();
  }
}

export function pipe(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
