/**
 * The generator behind tests/netlayers/websocket_hostile_test.ts: a seeded
 * PRNG, the frames a hostile websocket peer sends (mostly well formed, with
 * a hostile share: bit flips, truncation, wrong labels and arity, text and
 * empty frames, oversize frames, two messages or half a message in one
 * frame, replays), a fake server's script, and an oracle saying which
 * challenges and answers a correct peer must accept. What is sent is a pure
 * function of the seed (fresh keys and challenges aside, which never decide
 * a branch), so a failing sequence replays from its seed alone.
 */

import { makeChallenge } from "../../netlayers/_websocket_auth.ts";
import { decode } from "../../protocol/syrup/decode.ts";
import { encode } from "../../protocol/syrup/encode.ts";
import {
  labelOf,
  record,
  SyrupRecord,
  type SyrupValue,
} from "../../protocol/syrup/value.ts";
import {
  signatureFromSyrup,
  signatureToSyrup,
} from "../../protocol/captp/keys.ts";
import { crypto } from "./_websocket_fixtures.ts";
import { Prng } from "../protocol/syrup/_arbitrary.ts";

export { Prng };

/** A frame as sent: binary, or text (which the layer must refuse). */
export type Frame = Uint8Array | string;

export function showFrame(frame: Frame): string {
  if (typeof frame === "string") return `text ${JSON.stringify(frame)}`;
  const text = Array.from(
    frame.subarray(0, 96),
    (b) => b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${hex(b)}`,
  ).join("");
  return `${frame.length}B ${text}${frame.length > 96 ? "..." : ""}`;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

const concat = (...parts: Uint8Array[]) =>
  new Uint8Array(parts.flatMap((p) => [...p]));

/** `bytes` damaged one way or another: never the same bytes back. */
export function mutate(rng: Prng, bytes: Uint8Array): [string, Uint8Array] {
  const out = bytes.slice();
  switch (rng.int(6)) {
    case 0: {
      const flips = 1 + rng.int(3);
      for (let i = 0; i < flips; i++) {
        out[rng.int(out.length)] ^= 1 << rng.int(8);
      }
      return [`${flips} bit flip(s)`, out];
    }
    case 1:
      return ["truncated", out.subarray(0, rng.int(out.length))];
    case 2:
      return ["garbage appended", concat(out, rng.bytes(1 + rng.int(8)))];
    case 3:
      return ["doubled", concat(out, out)];
    case 4: {
      const at = rng.int(out.length);
      return [
        "byte inserted",
        concat(out.subarray(0, at), rng.bytes(1), out.subarray(at)),
      ];
    }
    default: {
      const at = rng.int(out.length);
      out[at] = rng.int(256);
      return ["byte replaced", out];
    }
  }
}

/** Syrup that is not a challenge: wrong label, arity or payload. */
export function wrongChallenge(rng: Prng): [string, Frame] {
  const payload = crypto.randomBytes(32);
  const cases: [string, () => Frame][] = [
    ["wrong label", () => encode(record("op:peer-auth", payload))],
    ["no fields", () => encode(record("init:peer-auth"))],
    ["two fields", () => encode(record("init:peer-auth", payload, payload))],
    ["string payload", () => encode(record("init:peer-auth", "x".repeat(32)))],
    [
      "15-byte payload",
      () => encode(record("init:peer-auth", payload.subarray(0, 15))),
    ],
    ["a list", () => encode([Symbol.for("init:peer-auth"), payload])],
    [
      "nested",
      () => encode(record("init:peer-auth", record("init:peer-auth", payload))),
    ],
    ["deep", () => new TextEncoder().encode("[".repeat(40) + "]".repeat(40))],
    ["oversize", () => encode(record("init:peer-auth", rng.bytes(1100)))],
    [
      "text",
      () =>
        new TextDecoder("latin1").decode(
          encode(record("init:peer-auth", payload)),
        ),
    ],
    ["empty", () => new Uint8Array()],
    ["garbage", () => rng.bytes(1 + rng.int(80))],
    ["64 raw bytes (Goblins v0.17)", () => rng.bytes(64)],
    [
      "an envelope",
      () =>
        encode(
          record("desc:sig-envelope", record("init:peer-auth", payload), "sig"),
        ),
    ],
  ];
  const [what, make] = rng.pick(cases);
  return [what, make()];
}

/** What the server must accept as a challenge (netlayers/_websocket_auth.ts). */
export function isChallenge(frame: Frame): boolean {
  if (typeof frame === "string" || frame.length > 1024) return false;
  let value: SyrupValue;
  try {
    value = decode(frame, { maxLength: 1024, maxDepth: 8 });
  } catch {
    return false;
  }
  return labelOf(value) === "init:peer-auth" &&
    (value as SyrupRecord).fields.length === 1 &&
    (value as SyrupRecord).fields[0] instanceof Uint8Array &&
    ((value as SyrupRecord).fields[0] as Uint8Array).length >= 16;
}

/**
 * Whether `frame` proves `publicKey` for `challenge`: the envelope record
 * holding that very challenge and an eddsa signature over its bytes.
 */
export function provesKey(
  frame: Frame,
  challenge: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (typeof frame === "string") return false;
  try {
    const envelope = decode(frame, { maxLength: 1024, maxDepth: 8 });
    if (
      labelOf(envelope) !== "desc:sig-envelope" ||
      (envelope as SyrupRecord).fields.length !== 2
    ) return false;
    const [signed, sig] = (envelope as SyrupRecord).fields;
    return labelOf(signed) === "init:peer-auth" &&
      crypto.ed25519.verify(publicKey, challenge, signatureFromSyrup(sig));
  } catch {
    return false;
  }
}

/**
 * Frames a peer sends once authenticated, each marked with whether the
 * framing itself (not CapTP) must refuse it: `maxLength` is the victim's.
 */
export function postAuthFrame(
  rng: Prng,
  maxLength: number,
  valid: Uint8Array,
): { what: string; frame: Frame; badFraming: boolean } {
  const cases: [string, boolean, () => Frame][] = [
    [
      "garbage",
      true,
      () => concat(new TextEncoder().encode("]"), rng.bytes(rng.int(40))),
    ],
    ["text frame", true, () => "<8'op:abort3\"bye>"],
    ["empty frame", true, () => new Uint8Array()],
    ["oversize frame", true, () => encode(rng.bytes(maxLength + rng.int(64)))],
    ["two messages", true, () => concat(valid, valid)],
    [
      "half a message",
      true,
      () => valid.subarray(0, 1 + rng.int(valid.length - 1)),
    ],
    ["mutated message", false, () => mutate(rng, valid)[1]],
    ["unknown op", false, () => encode(record("op:bogus", 1n))],
    ["bare string", false, () => encode("hello")],
    [
      "deep nesting",
      true,
      () => new TextEncoder().encode("[".repeat(200) + "]".repeat(200)),
    ],
  ];
  const [what, badFraming, make] = rng.pick(cases);
  return { what, frame: make(), badFraming };
}

/** What the fake server does with one connection's challenge. */
export interface ServerScript {
  challenge: Uint8Array;
  first?: Frame;
  /** Frames after the answer, each with whether it decodes as one value. */
  after: { frame: Frame; decodes: boolean }[];
  close: boolean;
}

/** The answer and what follows it, chosen by the seed and recorded in `log`. */
export function serverScript(
  rng: Prng,
  options: { secretKey: Uint8Array; challenge: Uint8Array; maxLength: number },
  log: string[],
): ServerScript {
  const { challenge, maxLength } = options;
  const sign = (bytes: Uint8Array, secret = options.secretKey) =>
    signatureToSyrup(crypto.ed25519.sign(secret, bytes));
  const valid = encode(
    record("desc:sig-envelope", decode(challenge), sign(challenge)),
  );
  const roll = rng.next();
  let first: Frame | undefined = valid;
  let what = "valid answer";
  if (roll < 0.15) [what, first] = mutate(rng, valid);
  else if (roll < 0.2) {
    what = "another key's answer";
    const other = crypto.ed25519.generateKeyPair().secretKey;
    first = encode(
      record("desc:sig-envelope", decode(challenge), sign(challenge, other)),
    );
  } else if (roll < 0.25) {
    what = "a signature over other bytes";
    const other = makeChallenge(crypto);
    first = encode(record("desc:sig-envelope", decode(other), sign(other)));
  } else if (roll < 0.3) [what, first] = ["the challenge echoed", challenge];
  else if (roll < 0.4) [what, first] = wrongChallenge(rng);
  else if (roll < 0.43) {
    what = "a bare sig-val (Goblins v0.17)";
    first = encode(sign(challenge));
  } else if (roll < 0.5) [what, first] = ["silence", undefined];
  const after: ServerScript["after"] = [];
  for (let i = first === undefined ? 0 : rng.int(4); i > 0; i--) {
    const step = postAuthFrame(rng, maxLength, encode("hello"));
    let decodes = typeof step.frame !== "string" &&
      step.frame.length <= maxLength;
    try {
      if (decodes) decode(step.frame as Uint8Array);
    } catch {
      decodes = false;
    }
    after.push({ frame: step.frame, decodes });
  }
  const close = first !== undefined && rng.chance(0.5);
  log.push(`server: ${what}: ${first === undefined ? "-" : showFrame(first)}`);
  for (const a of after) log.push(`server then: ${showFrame(a.frame)}`);
  if (close || (first === undefined && rng.chance(0.5))) {
    log.push("server closes");
    return { challenge, first, after, close: true };
  }
  return { challenge, first, after, close };
}
