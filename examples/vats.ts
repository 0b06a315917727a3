/**
 * Two vats in one process, talking only by eventual send. Alice (vat "alice")
 * asks Bob's directory (vat "bob") for Carol and, without waiting for the
 * answer, sends Carol a message through the promise: a pipelined call.
 *
 *   ./node_modules/.bin/deno run examples/vats.ts
 */
import { E, Vat } from "../runtime/mod.ts";

const log = (vat: string, text: string) => console.log(`[${vat}] ${text}`);

const aliceVat = new Vat({ name: "alice" });
const bobVat = new Vat({ name: "bob" });

const carol = bobVat.makeFar("Carol", {
  greet(from: string) {
    log("bob", `carol is greeted by ${from}`);
    return `hello ${from}, this is carol`;
  },
});

let counter = 0;
const directory = bobVat.makeFar("Directory", {
  lookup(name: string) {
    log("bob", `directory looks up "${name}"`);
    if (name !== "carol") throw new RangeError(`No entry "${name}"`);
    return carol;
  },
  count: () => ++counter,
});

const alice = aliceVat.makeFar("Alice", {
  async run() {
    const carolPromise = E(directory).lookup("carol");
    log("alice", "sent lookup; sending greet to the answer before it resolves");
    const reply = E(carolPromise).greet("alice");
    for (let i = 0; i < 3; i++) E.sendOnly(directory).count();
    log("alice", `reply: ${await reply}`);
    log(
      "alice",
      `count after three send-only calls: ${await E(directory).count()}`,
    );
    try {
      await E(E(directory).lookup("dave")).greet("alice");
    } catch (error) {
      log("alice", `pipelined call broke: ${(error as Error).message}`);
    }
  },
});

await E(alice).run();
await Promise.all([aliceVat.whenIdle(), bobVat.whenIdle()]);
console.log("stats:", aliceVat.stats(), bobVat.stats());
aliceVat.shutdown("demo over");
bobVat.shutdown("demo over");
