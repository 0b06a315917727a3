/**
 * Third-party handoff latency against a plain two-party round trip, in the
 * same run, all sessions already open (three vats over the in-memory
 * network). "handoff" times Alice's send to Bob of a reference to Carol
 * until Bob's first answer from Carol reaches Alice: Alice->Bob, the
 * withdraw Bob->Carol, Bob's call to Carol, and the answers back. Target:
 * at most 3 times the two-party round trip.
 */
import { E } from "../runtime/e.ts";
import { OCapNNode } from "../runtime/node.ts";
import { MemoryNetwork } from "../netlayers/memory.ts";

const network = new MemoryNetwork();
const [alice, bob, carol] = ["alice", "bob", "carol"].map((name) => {
  const node = new OCapNNode();
  node.listen(network.netlayer(name));
  return node;
});
carol.publish(
  carol.vat.makeFar("Carol", { greet: (name: string) => `hello ${name}` }),
  { swiss: "carol" },
);
bob.publish(
  bob.vat.makeFar("Bob", { introduce: (ref: unknown) => E(ref).greet("bob") }),
  { swiss: "bob" },
);
const at = (name: string) => ({
  peer: { transport: "memory", designator: name, hints: {} },
  swissNum: new TextEncoder().encode(name),
});
const toCarol = await alice.enliven(at("carol"));
const toBob = await alice.enliven(at("bob"));
// Open Bob's session with Carol before timing starts.
await E(toBob).introduce(toCarol);

Deno.bench({
  name: "two-party round trip (Alice -> Carol)",
  group: "handoff",
  baseline: true,
  async fn() {
    if (await E(toCarol).greet("alice") !== "hello alice") {
      throw new Error("Bad answer");
    }
  },
});

Deno.bench({
  name: "handoff: Alice's send to Bob's first answer from Carol",
  group: "handoff",
  async fn() {
    if (await E(toBob).introduce(toCarol) !== "hello bob") {
      throw new Error("Bad answer");
    }
  },
});

globalThis.addEventListener("unload", () => {
  for (const node of [alice, bob, carol]) void node.close();
});
