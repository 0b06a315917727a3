/**
 * Fault injection for bench/udp_script.ts: once imported, every UDP socket
 * this process opens drops each outgoing datagram with probability
 * `loss.rate` (0, the start, is off). It wraps `Deno.listenDatagram`, so the
 * netlayer's own socket drops with no test hook in production code; the
 * drops come from a seeded PRNG, the same every run.
 */

/** xorshift32: the same drops every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** The drop rate in force and how many datagrams it has dropped since set. */
export const loss = { rate: 0, random: prng(1), dropped: 0 };

/** Drops from now on with probability `rate`, from a PRNG seeded by `seed`. */
export function setLoss(rate: number, seed: number): void {
  loss.rate = rate;
  loss.random = prng(0x9e3779b9 ^ seed);
  loss.dropped = 0;
}

const listenDatagram = Deno.listenDatagram;
Deno.listenDatagram =
  ((options: Deno.UdpListenOptions & { transport: "udp" }) => {
    const conn = listenDatagram(options);
    const send = conn.send.bind(conn);
    conn.send = (bytes: Uint8Array, to: Deno.Addr) => {
      if (loss.rate > 0 && loss.random() < loss.rate) {
        loss.dropped++;
        return Promise.resolve(bytes.length);
      }
      return send(bytes, to);
    };
    return conn;
  }) as typeof Deno.listenDatagram;
