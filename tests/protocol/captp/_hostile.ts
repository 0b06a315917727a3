/**
 * Seeded hostile CapTP input for an open session (the promise of
 * STYLE.md "Bad input never crashes, never corrupts a table, never leaks a
 * registry entry"; CapTP draft, "Operations" and "Descriptors").
 *
 * Why it exists: the Syrup fuzzer (tests/protocol/syrup/fuzz.ts) stops at
 * the decoder. Most of what this makes is well-formed: every operation the
 * reader accepts (op:deliver, op:deliver-only, op:listen with 2 and 3
 * fields, op:get/index/untag, op:gc-exports/-answers in both spellings,
 * op:abort, a second op:start-session), with positions drawn from what the
 * session under test really holds, so that it gets past the decoder and the
 * reader and reaches the engine's tables. The rest is hostile in one field
 * (a huge, negative or non-integer position, a wrong descriptor, an
 * over-releasing delta, a reused answer position), a replay, a
 * byte-mutated encoding, an oversized message or garbage.
 *
 * `observe` feeds back what the session wrote, so positions it exported
 * (`desc:import-*` in its messages) become likely targets. What needs no
 * such knowledge is in _hostile_values.ts.
 */

import { encode } from "../../../protocol/syrup/encode.ts";
import {
  record,
  type SyrupRecord,
  type SyrupValue,
} from "../../../protocol/syrup/value.ts";
import {
  arbitraryBytes,
  arbitraryValue,
  mutate,
  Prng,
} from "../syrup/_arbitrary.ts";
import {
  anyDescriptor,
  atom,
  handoff,
  METHODS,
  oversized,
  startSession,
  SWISS,
  sym,
  utf8,
  walk,
  WEIRD_POSITIONS,
} from "./_hostile_values.ts";

export class HostileGenerator {
  readonly rng: Prng;
  /**
   * Positions the session under test exported to us (its exports), with
   * how many `desc:import-*` for each we have not released yet.
   */
  #theirExports = new Map<bigint, number>([[0n, 1]]);
  /** Whether this message may break the rules in its fields. */
  #hostile = false;
  /** Answer positions we have used in a question. */
  #ourAnswers: bigint[] = [];
  #nextAnswer = 0n;
  /** Positions we named as our exports (resolvers, arguments). */
  #ourExports: bigint[] = [];
  #nextExport = 1n;
  #sent: Uint8Array[] = [];

  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  /** Learns positions from one message the session under test wrote. */
  observe(value: SyrupValue): void {
    walk(value, (rec) => {
      const label = typeof rec.label === "symbol"
        ? Symbol.keyFor(rec.label)
        : undefined;
      const pos = rec.fields[0];
      if (
        (label === "desc:import-object" || label === "desc:import-promise") &&
        rec.fields.length === 1 && typeof pos === "bigint" &&
        this.#theirExports.size < 64
      ) this.#theirExports.set(pos, (this.#theirExports.get(pos) ?? 0) + 1);
    });
  }

  /** The next message of a sequence; `step` is its index. */
  next(step: number): Uint8Array {
    this.#allClean &&= this.#clean;
    const out = this.#make(step);
    this.#sent.push(out);
    return out;
  }

  /**
   * Whether the last message kept the rules in its fields (no replay, no
   * damage): then an abort needs a reason a well-behaved peer can cause
   * (a method sent to a resolver, an op:abort, a second op:start-session).
   */
  get clean(): boolean {
    return this.#clean && this.#allClean;
  }
  #clean = true;
  /** Whether every message so far was clean (our model of its tables holds). */
  #allClean = true;

  #make(step: number): Uint8Array {
    const r = this.rng;
    this.#clean = false;
    // Most messages keep the rules in their fields (positions it holds,
    // fresh answer positions), so a sequence lives long enough to build up
    // tables; a few break one.
    this.#hostile = r.next() < 0.025;
    // Early on, mostly fetch something, so the later messages have targets.
    if (step < 3 && r.next() < 0.6) {
      this.#clean = !this.#hostile;
      return encode(this.#fetch());
    }
    const roll = r.next();
    if (roll < 0.015 && this.#sent.length > 0) return r.pick(this.#sent); // replay
    if (roll < 0.03) return mutate(r, encode(this.#operation()));
    if (roll < 0.035) return arbitraryBytes(r, 40);
    if (roll < 0.038) return encode(arbitraryValue(r, 3));
    if (roll < 0.04) return oversized();
    if (roll < 0.045) return this.#wrongArity();
    const op = encode(this.#operation());
    this.#clean = !this.#hostile;
    return op;
  }

  #operation(): SyrupRecord {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.12) return this.#fetch();
    if (roll < 0.36) {
      return record(
        "op:deliver",
        this.#target(),
        this.#args(),
        this.#answerPosOrFalse(),
        this.#resolverOrFalse(),
      );
    }
    if (roll < 0.44) {
      return record("op:deliver-only", this.#target(), this.#args());
    }
    if (roll < 0.52) return this.#resolve();
    if (roll < 0.60) {
      const fields: SyrupValue[] = [this.#target(), this.#resolver()];
      if (r.next() < 0.4) {
        fields.push(!this.#hostile || r.next() < 0.5 ? r.next() < 0.5 : 1n);
      }
      return record("op:listen", ...fields);
    }
    if (roll < 0.74) {
      const type = r.pick(["op:get", "op:index", "op:untag"]);
      const key: SyrupValue = type === "op:index"
        ? !this.#hostile ? BigInt(r.int(4)) : r.pick(WEIRD_POSITIONS)
        : !this.#hostile || r.next() < 0.5
        ? r.pick(["name", "n", "list", "t", "__proto__", "constructor"])
        : r.next() < 0.5
        ? sym(r.pick(["name", "t"]))
        : r.pick(WEIRD_POSITIONS);
      return record(type, this.#target(), key, this.#newAnswerPos());
    }
    if (roll < 0.86) return this.#gcExports();
    if (roll < 0.988) return this.#gcAnswers();
    if (roll < 0.993) {
      return record(
        "op:abort",
        r.next() < 0.8 ? "hostile" : arbitraryValue(r, 2),
      );
    }
    return startSession(this.rng);
  }

  // ---- Positions ----

  /** A position: one of `known`, else (hostile) small or past every limit. */
  #position(known: readonly bigint[]): SyrupValue {
    const r = this.rng;
    const roll = r.next();
    if ((!this.#hostile || roll < 0.3) && known.length > 0) {
      return r.pick(known);
    }
    if (!this.#hostile) return 0n;
    if (roll < 0.7) return BigInt(r.int(6));
    return r.pick(WEIRD_POSITIONS);
  }

  get #exported(): bigint[] {
    return [...this.#theirExports.keys()];
  }

  #target(): SyrupValue {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.7 || this.#ourAnswers.length === 0 && !this.#hostile) {
      return record("desc:export", this.#position(this.#exported));
    }
    if (roll < 0.95 || !this.#hostile) {
      return record("desc:answer", this.#position(this.#ourAnswers));
    }
    return anyDescriptor(this.rng);
  }

  #newAnswerPos(): SyrupValue {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.5 || !this.#hostile) {
      const pos = this.#nextAnswer++;
      this.#ourAnswers.push(pos);
      return pos;
    }
    if (roll < 0.9 && this.#ourAnswers.length > 0) {
      return r.pick(this.#ourAnswers); // reused
    }
    return r.pick(WEIRD_POSITIONS);
  }

  #answerPosOrFalse(): SyrupValue {
    return this.rng.next() < 0.25 ? false : this.#newAnswerPos();
  }

  /** A desc:import-* naming our export: a resolver, a listener, an argument. */
  #resolver(): SyrupValue {
    const r = this.rng;
    const roll = r.next();
    let pos: SyrupValue;
    if (roll < 0.5) {
      pos = this.#nextExport++;
      this.#ourExports.push(pos as bigint);
    } else if (roll < 0.85 || !this.#hostile) {
      pos = this.#position(this.#ourExports);
    } else pos = r.pick(WEIRD_POSITIONS);
    if (this.#hostile && r.next() < 0.3) return anyDescriptor(this.rng);
    return record(
      r.next() < 0.8 ? "desc:import-object" : "desc:import-promise",
      pos,
    );
  }

  #resolverOrFalse(): SyrupValue {
    return this.rng.next() < 0.3 ? false : this.#resolver();
  }

  // ---- Arguments ----

  #args(): SyrupValue[] {
    const r = this.rng;
    if (r.next() < 0.03) return [];
    const method: SyrupValue = r.next() < 0.9 || !this.#hostile
      ? sym(r.pick(METHODS))
      : arbitraryValue(r, 1);
    const args: SyrupValue[] = [method];
    const n = r.int(4);
    for (let i = 0; i < n; i++) args.push(this.#value(3));
    return args;
  }

  /** An OCapN value, with references and now and then a non-OCapN one. */
  #value(depth: number): SyrupValue {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.25) return this.#resolver();
    if (roll < 0.32) {
      return r.next() < 0.5 || this.#ourAnswers.length === 0 && !this.#hostile
        ? record("desc:export", this.#position(this.#exported))
        : record("desc:answer", this.#position(this.#ourAnswers));
    }
    if (roll < 0.36 && this.#hostile) return anyDescriptor(this.rng);
    if (roll < 0.40) return handoff(this.rng);
    if (roll < 0.44 && this.#hostile) return arbitraryValue(r, 2); // sets, odd records
    if (depth <= 0 || roll < 0.7) return atom(this.rng, this.#hostile);
    const size = r.int(4);
    switch (r.int(4)) {
      case 0: {
        const struct = new Map<SyrupValue, SyrupValue>();
        for (let i = 0; i < size; i++) {
          struct.set(
            r.pick(["name", "n", "list", "t", `k${i}`]),
            this.#value(depth - 1),
          );
        }
        return struct;
      }
      case 1:
        return record(
          "desc:tagged",
          sym(r.pick(["t", "u"])),
          this.#value(depth - 1),
        );
      default:
        return Array.from({ length: size }, () => this.#value(depth - 1));
    }
  }

  // ---- Whole operations ----

  #fetch(): SyrupRecord {
    const r = this.rng;
    return record(
      "op:deliver",
      record("desc:export", 0n),
      [sym("fetch"), utf8.encode(r.pick(SWISS))],
      this.#newAnswerPos(),
      r.next() < 0.8 ? this.#resolver() : false,
    );
  }

  /** `fulfill`/`break` to one of its exports, as if answering its question. */
  #resolve(): SyrupRecord {
    const r = this.rng;
    const kind = r.next() < 0.6 ? "fulfill" : "break";
    const args: SyrupValue[] = [sym(kind), this.#value(2)];
    if (this.#hostile) args.push(this.#value(1)); // one too many
    return record(
      "op:deliver",
      record("desc:export", this.#position(this.#exported)),
      args,
      false,
      r.next() < 0.9 ? false : this.#resolver(),
    );
  }

  #gcExports(): SyrupRecord {
    const r = this.rng;
    const n = r.int(4);
    const positions: SyrupValue[] = [];
    const deltas: SyrupValue[] = [];
    for (let i = 0; i < n; i++) {
      if (!this.#hostile) {
        // What a well-behaved peer may release: at most what it received.
        const held = [...this.#theirExports].filter(([p, c]) =>
          p !== 0n && c > 0
        );
        if (held.length === 0) break;
        const [pos, count] = r.pick(held);
        const delta = 1 + r.int(count);
        if (count === delta) this.#theirExports.delete(pos);
        else this.#theirExports.set(pos, count - delta);
        positions.push(pos);
        deltas.push(BigInt(delta));
        continue;
      }
      const pos = this.#position(this.#exported);
      if (pos !== 0n) this.#theirExports.delete(pos as bigint);
      positions.push(pos);
      const roll = r.next();
      deltas.push(
        roll < 0.4 ? 1n : roll < 0.7
          ? BigInt(2 + r.int(3)) // over-releases most of the time
          : r.pick([0n, -1n, 2n ** 32n, 2n ** 60n, 1.0]),
      );
    }
    if (this.#hostile && r.next() < 0.2) deltas.pop(); // lengths differ
    const label = r.next() < 0.7 ? "op:gc-exports" : "op:gc-export";
    if (positions.length === 1 && r.next() < 0.2) {
      return record(label, positions[0], deltas[0] ?? 1n);
    }
    return record(label, positions, deltas);
  }

  #gcAnswers(): SyrupRecord {
    const r = this.rng;
    const n = r.int(3);
    const positions: SyrupValue[] = [];
    for (let i = 0; i < n; i++) {
      if (this.#hostile) {
        const pos = this.#position(this.#ourAnswers);
        this.#ourAnswers = this.#ourAnswers.filter((p) => p !== pos);
        positions.push(pos);
      } else if (this.#ourAnswers.length > 0) {
        const at = r.int(this.#ourAnswers.length);
        positions.push(this.#ourAnswers.splice(at, 1)[0]);
      }
    }
    const label = r.next() < 0.7 ? "op:gc-answers" : "op:gc-answer";
    if (positions.length === 1 && r.next() < 0.2) {
      return record(label, positions[0]);
    }
    return record(label, positions);
  }

  #wrongArity(): Uint8Array {
    const r = this.rng;
    const label = r.pick([
      "op:deliver",
      "op:deliver-only",
      "op:listen",
      "op:get",
      "op:index",
      "op:untag",
      "op:gc-exports",
      "op:gc-answers",
      "op:abort",
      "op:start-session",
      "op:pick",
    ]);
    const n = r.int(6);
    return encode(record(
      label,
      ...Array.from({ length: n }, () => this.#value(1)),
    ));
  }
}
