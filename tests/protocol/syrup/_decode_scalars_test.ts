/**
 * protocol/syrup/_decode_scalars.ts: decoding registers a bounded number of
 * symbol names (V8 never frees a registered symbol). Each case runs in a
 * child process, since exhausting the limit here would change every later
 * test in this process.
 */
import assert from "node:assert/strict";
import {
  MAX_REGISTERED_SYMBOL_BYTES,
  MAX_REGISTERED_SYMBOLS,
} from "../../../protocol/syrup/_decode_scalars.ts";

const DECODE = import.meta.resolve("../../../protocol/syrup/decode.ts");

/** Runs `body` (with `decode` and `symbolOf(name)` in scope) in a child; returns what it printed. */
async function inChild(body: string): Promise<unknown> {
  const script = `
    import { decode } from ${JSON.stringify(DECODE)};
    const enc = new TextEncoder();
    const symbolOf = (name) => {
      const bytes = enc.encode(name);
      return decode(new Uint8Array([...enc.encode(bytes.length + "'"), ...bytes]));
    };
    const failure = (f) => { try { f(); return null; } catch (e) { return [e.name, e.message]; } };
    ${body}
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("decode() refuses a new symbol name past the count limit, and still decodes known ones", async () => {
  const result = await inChild(`
    let decoded = 0;
    for (let i = 0; i < ${MAX_REGISTERED_SYMBOLS}; i++) {
      if (symbolOf("s" + i) === Symbol.for("s" + i)) decoded++;
    }
    console.log(JSON.stringify({
      decoded,
      past: failure(() => symbolOf("one-more")),
      known: symbolOf("s7") === Symbol.for("s7"),
    }));
  `);
  assert.deepEqual(result, {
    decoded: MAX_REGISTERED_SYMBOLS,
    past: [
      "SyntaxError",
      `New symbol past the limit of ${MAX_REGISTERED_SYMBOLS} names and ${MAX_REGISTERED_SYMBOL_BYTES} bytes decoding may register at byte 0`,
    ],
    known: true,
  });
});

Deno.test("decode() refuses a new symbol name past the byte limit", async () => {
  const size = 64 * 1024;
  const fit = MAX_REGISTERED_SYMBOL_BYTES / size;
  const result = await inChild(`
    const long = (i) => String(i).padStart(${size}, "x");
    let decoded = 0;
    for (let i = 0; i < ${fit}; i++) {
      if (symbolOf(long(i)) === Symbol.for(long(i))) decoded++;
    }
    console.log(JSON.stringify({
      decoded,
      past: failure(() => symbolOf(long(-1)))?.[0],
      short: failure(() => symbolOf("")),
    }));
  `);
  // Even an empty name is new, and would pass the byte limit by nothing:
  // the limit counts bytes, so it still decodes.
  assert.deepEqual(result, { decoded: fit, past: "SyntaxError", short: null });
});
