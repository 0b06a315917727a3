/**
 * Two vats in two processes, over `tcp-testing-only` unless asked otherwise.
 *
 *   deno task demo          (or: deno run -A --unstable-net examples/demo.ts)
 *   deno task demo --transport noise-tcp|noise-udp|websocket
 *
 * This process starts a second one (`--serve`), which publishes a car
 * factory and prints its sturdyref URI. This process enlivens the URI,
 * asks the factory for a car and, without waiting for the car to exist,
 * asks the car to drive: the second message is pipelined on the answer to
 * the first, so both go out before either answer comes back.
 */
import { parseArgs } from "node:util";
import { E } from "../runtime/e.ts";
import { OCapNNode } from "../runtime/node.ts";
import type { Netlayer } from "../netlayers/types.ts";
import { TcpTestingNetlayer } from "../netlayers/tcp_testing.ts";
import { NoiseTcpNetlayer } from "../netlayers/noise_tcp.ts";
import { NoiseUdpNetlayer } from "../netlayers/noise_udp.ts";
import { WebSocketNetlayer } from "../netlayers/websocket.ts";
import { defaultCrypto } from "../crypto/mod.ts";
import { GC_INTERVAL_MS } from "../protocol/captp/imports.ts";

const NETLAYERS: Record<string, (name: string) => Netlayer> = {
  "tcp-testing-only": (designator) => TcpTestingNetlayer.listen({ designator }),
  "noise-tcp": () => NoiseTcpNetlayer.listen(),
  "noise-udp": () => NoiseUdpNetlayer.listen(),
  "websocket": () => WebSocketNetlayer.listen({ crypto: defaultCrypto }),
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    serve: { type: "boolean", default: false },
    transport: { type: "string", default: "tcp-testing-only" },
  },
});
const listen = NETLAYERS[values.transport];
if (!listen) {
  console.error(
    `--transport must be one of ${
      Object.keys(NETLAYERS).join(", ")
    }, not "${values.transport}"`,
  );
  Deno.exit(2);
}

if (values.serve) {
  const node = new OCapNNode();
  node.listen(listen("carol"));
  let made = 0;
  const factory = node.vat.makeFar("CarFactory", {
    makeCar(color: string, model: string) {
      made++;
      console.error(`[server] making car #${made}: a ${color} ${model}`);
      return node.vat.makeFar("Car", {
        drive: () => `Vroom! I am a ${color} ${model} car!`,
      });
    },
  });
  console.log(node.publishUri(factory));
  Deno.addSignalListener("SIGTERM", async () => {
    await node.close("demo over");
    Deno.exit(0);
  });
} else {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      new URL(import.meta.url).pathname,
      "--serve",
      `--transport=${values.transport}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).values();
  const first = await lines.next();
  const uri = String(first.value ?? "").trim();
  console.log(`[client] server published ${uri}`);

  const node = new OCapNNode();
  node.listen(listen("bob"));
  try {
    const factory = await node.enliven(uri);
    console.log("[client] enlivened the sturdyref: a live reference");
    const car = E(factory).makeCar("red", "zoomracer");
    const answer = await E(car).drive();
    console.log(`[client] pipelined makeCar -> drive answered: ${answer}`);
    // GC messages are paced (at most one per session per GC_INTERVAL_MS),
    // so the server's release of our last resolver is a moment behind the
    // answer; the tables are shown once it has had time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 5 * GC_INTERVAL_MS));
    const session = node.sessions[0];
    console.log(
      `[client] tables after the call: ${JSON.stringify(session.stats())}`,
    );
  } finally {
    await node.close("demo over");
    server.kill("SIGTERM");
    await server.status;
    await lines.return?.();
  }
}
