/**
 * What the rogue peer of hostile_test.ts does at each step, chosen by the
 * seeded PRNG: garbage, shaped and mutated datagrams (some with spoofed
 * sources), replays, initiation floods, its own handshake, and once that
 * is done the data-plane abuses (transportStep) that only a peer holding
 * session keys can send. Apart from the test file so each reads alone.
 */
import { nativeCrypto } from "../../../crypto/native.ts";
import type { UdpEndpointTuning } from "../../../netlayers/udp/endpoint.ts";
import { InitiatorHandshake } from "../../../netlayers/udp/handshake_roles.ts";
import { DatagramType } from "../../../netlayers/udp/wire.ts";
import { MAX_ACCEPTED_CONNECTIONS } from "../../../netlayers/udp/session_cache.ts";
import type { Net, Node } from "./_net.ts";
import {
  type Attacker,
  bytesOf,
  CLOSE,
  DATA,
  int,
  marker,
  mutate,
  OPEN,
  pick,
  type Random,
  type Rogue,
  tampersResponseCode,
} from "./_hostile.ts";

export interface Scene {
  net: Net;
  rogue: Rogue;
  attacker: Attacker;
  peer: Node;
  victim: Node;
  say: (line: string) => void;
  o: NonNullable<UdpEndpointTuning["data"]>;
}

export function rogueStep(
  random: Random,
  scene: Scene,
  counted: () => void,
): void {
  const { net, rogue, attacker, peer, say, o } = scene;
  const spoof = random() < 0.15 ? peer.address : undefined;
  const from = spoof ?? rogue.address;
  const r = random();
  if (r < 0.1) {
    const bytes = bytesOf(random, int(random, 300));
    say(`rogue: garbage ${bytes.length}${spoof ? " spoofed" : ""}`);
    return rogue.send(bytes, from);
  }
  if (r < 0.2) {
    const bytes = bytesOf(random, 16 + int(random, 1300));
    bytes[0] = 1 + int(random, 6);
    bytes[1] = bytes[2] = bytes[3] = 0;
    const real = attacker.seen.filter((d) => d.bytes[0] >= 2);
    if (real.length > 0 && random() < 0.8) {
      bytes.set(pick(random, real).bytes.subarray(4, 8), 4);
    }
    say(`rogue: shaped type ${bytes[0]} length ${bytes.length}`);
    return rogue.send(bytes, from);
  }
  if (r < 0.3 && attacker.seen.length > 0) {
    const d = pick(random, attacker.seen);
    const [bytes, how] = mutate(random, d.bytes);
    attacker.codeTampered ||= tampersResponseCode(d.bytes, bytes);
    say(`rogue: mutated type ${d.bytes[0]} (${how})${spoof ? " spoofed" : ""}`);
    return void net.send({ bytes, from: spoof ?? d.from, to: d.to });
  }
  if (r < 0.36) {
    return attacker.replay(random() < 0.3 ? rogue.address : undefined);
  }
  if (r < 0.42) {
    const n = 1 + int(random, 20);
    say(`rogue: ${n} initiations never confirmed`);
    for (let i = 0; i < n; i++) {
      const dial = new InitiatorHandshake(nativeCrypto, {
        clock: net.clock,
        identity: rogue.identity,
        remoteKey: random() < 0.7 ? scene.victim.key : undefined,
        localCode: 1 + int(random, 1000),
      });
      rogue.send(dial.initiation(), from);
      // Some answer cookies, so half-opens pile up to maxHalfOpen.
      if (from === rogue.address && random() < 0.5) rogue.flood.push(dial);
      else dial.destroy();
    }
    return;
  }
  if (rogue.sealer === undefined || r < 0.47) {
    if (rogue.dial !== undefined && random() < 0.7) return;
    counted();
    say("rogue: handshake");
    return rogue.startHandshake(random, random() < 0.3);
  }
  transportStep(random, rogue, { say, o });
}

function transportStep(
  random: Random,
  rogue: Rogue,
  { say, o }: Pick<Scene, "say" | "o">,
): void {
  const id = 1 + int(random, 4);
  const big = o.maxMessageBytes! - 5;
  switch (int(random, 13)) {
    case 0:
      say(`rogue: open ${id}`);
      return void rogue.message(marker(OPEN, id));
    case 1: {
      const n = int(random, 5000);
      say(`rogue: data ${n} on ${id}`);
      return void rogue.message(marker(DATA, id, bytesOf(random, n)));
    }
    case 2:
      say(`rogue: close ${id}`);
      return void rogue.message(marker(CLOSE, id));
    case 3: {
      const bytes = bytesOf(random, int(random, 8));
      say(`rogue: odd marker ${[...bytes]}`);
      return void rogue.message(bytes);
    }
    case 4: {
      const body = marker(DATA, id, bytesOf(random, 3000));
      say(`rogue: resplit 3000 on ${id}`);
      const sequence = rogue.message(body, { count: 3, skip: [2] });
      return void rogue.message(body, {
        sequence,
        count: 5,
        skip: [int(random, 5)],
      });
    }
    case 5: {
      const n = 2 + int(random, 6);
      say(`rogue: partial message in ${n}`);
      return void rogue.message(marker(DATA, id, bytesOf(random, n * 1000)), {
        count: n,
        skip: [int(random, n)],
      });
    }
    case 6: {
      const ahead = rogue.sequence + o.maxOpenMessages! + int(random, 1000);
      say(`rogue: sequence ${ahead} far ahead`);
      return void rogue.message(marker(OPEN, id), { sequence: ahead });
    }
    case 7: {
      say("rogue: fragment flood");
      const base = rogue.sequence;
      for (let k = 0; k < o.maxOpenMessages! + 4; k++) {
        rogue.message(new Uint8Array(big), {
          sequence: base + k,
          count: Math.ceil(big / 1152),
          skip: range(1, Math.ceil(big / 1152)),
        });
      }
      rogue.sequence += o.maxOpenMessages! + 4;
      return;
    }
    case 8: {
      const length = 100 + int(random, 3000);
      const count = 1 + int(random, 5);
      const index = int(random, count + 2);
      const payload = bytesOf(random, int(random, 1200));
      say(
        `rogue: inconsistent fragment ${index}/${count} of ${length} carrying ${payload.length}`,
      );
      return void rogue.send(rogue.sealer!.data(
        { sequence: rogue.sequence + int(random, 3) - 1, index, count, length },
        payload,
      ));
    }
    case 9: {
      const sequence = rogue.message(new Uint8Array(2000), {
        count: 2,
        skip: [1],
      });
      say(`rogue: sequence ${sequence} again with another length`);
      return void rogue.message(new Uint8Array(2500), { sequence, count: 3 });
    }
    case 10: {
      const n = 1 + int(random, 4);
      const ranges = range(0, n).map(() => {
        const a = int(random, 2 ** 20), b = int(random, 2 ** 20);
        return random() < 0.2
          ? { high: a, low: b }
          : { high: Math.max(a, b), low: Math.min(a, b) };
      });
      say(`rogue: bogus ack ${JSON.stringify(ranges)}`);
      const body = new Uint8Array(6 + 16 * n);
      const view = new DataView(body.buffer);
      view.setUint32(0, int(random, 2 ** 32));
      view.setUint16(4, random() < 0.1 ? n + 1 : n);
      ranges.forEach((x, i) => {
        view.setUint32(10 + 16 * i, x.high);
        view.setUint32(18 + 16 * i, x.low);
      });
      return void rogue.send(rogue.sealer!.control(DatagramType.ack, body));
    }
    case 11: {
      const n = MAX_ACCEPTED_CONNECTIONS + 8;
      say(`rogue: ${n} opens`);
      for (let i = 0; i < n; i++) rogue.message(marker(OPEN, 100 + i));
      return;
    }
    default:
      say("rogue: vanishes");
      rogue.vanished = true;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
