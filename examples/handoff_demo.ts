/**
 * Third-party handoff demo: Alice introduces Bob to Carol, three OS
 * processes over tcp-testing-only (CapTP draft, "Third-party handoffs").
 *
 *   deno run -A examples/handoff_demo.ts
 *
 * starts Carol and Bob, then Alice, who holds references to both and sends
 * Bob a reference to Carol. Bob receives a promise that resolves to a
 * DIRECT reference to Carol (his own session with her), not a proxy
 * through Alice. Each process prints what it sees; Carol lists the peers
 * she has sessions with, so you can see Bob among them.
 *
 *   deno run -A examples/handoff_demo.ts --role carol|bob
 *   deno run -A examples/handoff_demo.ts --role alice <carol-uri> <bob-uri>
 *
 * run one role by hand (carol and bob print their sturdyref URI first).
 */
import { parseArgs } from "node:util";
import { E } from "../runtime/e.ts";
import { OCapNNode } from "../runtime/node.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { role: { type: "string" } },
  allowPositionals: true,
});

const peersOf = (node: OCapNNode) =>
  node.sessions.map((s) => s.peer?.designator ?? "?").sort();

function startNode(name: string): OCapNNode {
  const node = new OCapNNode();
  node.listen(TcpTestingNetlayer.listen({ designator: name }));
  const stop = () => node.close(`${name} stopped`).then(() => Deno.exit(0));
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  return node;
}

async function carol() {
  const node = startNode("carol");
  const carol = node.vat.makeFar("Carol", {
    greet: (name: string) =>
      `hello ${name}, this is Carol; my sessions are with: ${
        peersOf(node).join(", ")
      }`,
  });
  console.log(node.publishUri(carol, { swiss: "carol" }));
  await new Promise(() => {}); // serve until stopped
}

async function bob() {
  const node = startNode("bob");
  const bob = node.vat.makeFar("Bob", {
    async introduce(carol: unknown) {
      console.error("bob: got a reference from Alice; calling it");
      const reply = await E(carol).greet("bob");
      console.error(`bob: Carol answered: ${reply}`);
      return { reply, bobSessions: peersOf(node) };
    },
  });
  console.log(node.publishUri(bob, { swiss: "bob" }));
  await new Promise(() => {});
}

async function alice(carolUri: string, bobUri: string) {
  const node = new OCapNNode();
  node.listen(TcpTestingNetlayer.listen({ designator: "alice" }));
  const carol = await node.enliven(carolUri);
  const bob = await node.enliven(bobUri);
  console.error("alice: introducing Bob to Carol");
  const answer = await E(bob).introduce(carol);
  console.log(JSON.stringify(answer));
  await node.close();
}

/** Starts `role` as a child process; resolves with its first stdout line. */
async function spawn(role: string, ...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--role", role, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return { child, firstLine: text.split("\n")[0], reader, rest: text };
}

async function demo() {
  const c = await spawn("carol");
  const b = await spawn("bob");
  console.log(`carol is at ${c.firstLine}`);
  console.log(`bob is at ${b.firstLine}`);
  const a = await spawn("alice", c.firstLine, b.firstLine);
  const status = await a.child.status;
  console.log(`alice reports: ${a.firstLine}`);
  for (const p of [c, b]) {
    p.child.kill("SIGTERM");
    await p.child.status;
    await p.reader.cancel();
  }
  await a.reader.cancel();
  if (!status.success) Deno.exit(1);
}

switch (values.role) {
  case "carol":
    await carol();
    break;
  case "bob":
    await bob();
    break;
  case "alice":
    await alice(positionals[0], positionals[1]);
    break;
  case undefined:
    await demo();
    break;
  default:
    throw new TypeError(`--role must be carol, bob or alice: "${values.role}"`);
}
