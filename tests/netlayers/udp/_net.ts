/**
 * A simulated network of UDP endpoints (netlayers/udp/endpoint.ts) under a
 * ManualClock: datagrams sent with `sendTo` arrive 1 ms later at whatever
 * endpoint owns the destination address, each batch followed by `flush()`,
 * as the socket glue does. Seeded loss, a per-datagram filter (to drop,
 * redirect or spy), a log of handshake datagram types and restarting a node
 * let the endpoint tests check retransmission, cookies, rebinding and
 * caching.
 */
import assert from "node:assert/strict";
import { nativeCrypto } from "../../../crypto/native.ts";
import { ManualClock } from "../../../protocol/manual_clock.ts";
import { Registry } from "../../../protocol/registry.ts";
import {
  type NoiseIdentity,
  noiseIdentity,
} from "../../../netlayers/noise/peer_handshake.ts";
import { addressKey, type UdpAddress } from "../../../netlayers/udp/address.ts";
import {
  UdpEndpoint,
  type UdpEndpointTuning,
  type UdpSession,
} from "../../../netlayers/udp/endpoint.ts";
import { seededRandom } from "./_link_shim.ts";

export interface Node {
  endpoint: UdpEndpoint;
  registry: Registry;
  identity: NoiseIdentity;
  key: Uint8Array;
  address: UdpAddress;
  accepted: UdpSession[];
}

export interface Datagram {
  bytes: Uint8Array;
  from: UdpAddress;
  to: UdpAddress;
}

export class Net {
  clock = new ManualClock();
  loss = 0;
  /** Return false to drop; may rewrite `from` (NAT) before delivery. */
  filter: (d: Datagram) => boolean = () => true;
  /** Handshake datagrams sent, by type byte (1, 2, 3). */
  handshakes = [0, 0, 0, 0];
  #random = seededRandom(7);
  #nodes = new Map<string, Node>();
  #due = new Map<string, Datagram[]>();
  #cancels = new Set<() => void>();

  node(
    host: string,
    options: Partial<UdpEndpointTuning> = {},
  ): Node {
    const identity = noiseIdentity(
      nativeCrypto,
      nativeCrypto.ed25519.generateKeyPair(),
    );
    return this.#spawn({ hostname: host, port: 4000 }, { identity, options });
  }

  /**
   * The node's process restarts: its endpoint closes and a new one with the
   * same identity, at the same address, starts with a new registry.
   */
  restart(node: Node, options: Partial<UdpEndpointTuning> = {}): Node {
    node.endpoint.close();
    this.#nodes.delete(addressKey(node.address));
    return this.#spawn(node.address, { identity: node.identity, options });
  }

  #spawn(
    address: UdpAddress,
    spec: { identity: NoiseIdentity; options: Partial<UdpEndpointTuning> },
  ): Node {
    const { identity, options } = spec;
    const registry = new Registry({ clock: this.clock });
    const node = {
      registry,
      address,
      identity,
      key: identity.ed25519.publicKey,
      accepted: [] as UdpSession[],
    } as Node;
    node.endpoint = new UdpEndpoint({
      clock: this.clock,
      crypto: nativeCrypto,
      registry,
      identity,
      sendTo: (bytes, to) => this.send({ bytes, from: node.address, to }),
      onAccept: (session) => node.accepted.push(session),
      options,
    });
    this.#nodes.set(addressKey(address), node);
    return node;
  }

  /** Moves a node to a new address (its NAT rebinds). */
  move(node: Node, to: UdpAddress): void {
    this.#nodes.delete(addressKey(node.address));
    node.address = to;
    this.#nodes.set(addressKey(to), node);
  }

  send(d: Datagram): void {
    if (d.bytes[0] >= 1 && d.bytes[0] <= 3) this.handshakes[d.bytes[0]]++;
    if (this.#random() < this.loss || !this.filter(d)) return;
    const key = addressKey(d.to);
    const batch = this.#due.get(key);
    if (batch) return void batch.push(d);
    this.#due.set(key, [d]);
    const cancel = this.clock.schedule(this.clock.now() + 1, () => {
      this.#cancels.delete(cancel);
      const due = this.#due.get(key) ?? [];
      this.#due.delete(key);
      const node = this.#nodes.get(key);
      if (node === undefined) return;
      for (const { bytes, from } of due) node.endpoint.receive(bytes, from);
      node.endpoint.flush();
    });
    this.#cancels.add(cancel);
  }

  /** Runs the clock 1 ms at a time until `done()`; throws past `limit` ms. */
  async until(done: () => boolean, limit = 60_000): Promise<void> {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start > limit) {
        throw new Error(`Not done after "${limit}" ms`);
      }
      this.clock.advance(1);
      await Promise.resolve();
      await Promise.resolve();
    }
  }

  /** Settles `promise` while the clock runs. */
  async settle<T>(promise: Promise<T>, limit = 60_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => done = true);
    tracked.catch(() => {});
    await this.until(() => done, limit);
    return tracked;
  }

  close(): void {
    for (const node of this.#nodes.values()) node.endpoint.close();
    for (const cancel of this.#cancels) cancel();
    this.#cancels.clear();
    this.#due.clear();
  }
}

/** Collects what a session delivers. */
export function inbox(session: UdpSession) {
  const box = { messages: [] as Uint8Array[], closed: undefined as unknown };
  session.attach({
    message: (bytes) => box.messages.push(bytes),
    close: (reason) => box.closed = reason ?? "clean",
  });
  return box;
}

/** Closes the net; every node's registry and session table are empty. */
export function assertEmpty(net: Net, ...nodes: Node[]): void {
  net.close();
  for (const node of nodes) {
    assert.equal(node.registry.stats().live, 0, "registry is empty");
    assert.equal(node.endpoint.stats().sessions, 0);
  }
}
