/**
 * A tour of the wire layer: the Syrup "zoo" vector decoded, printed and
 * re-encoded byte for byte, and a sturdyref URI parsed into its parts.
 *
 *   deno run --allow-read examples/syrup_tour.ts
 */
import { decode, encode, SyrupRecord } from "../protocol/syrup/mod.ts";
import {
  formatSturdyRefUri,
  parseSturdyRefUri,
  sturdyRefToSyrup,
} from "../protocol/locator.ts";

const zooPath = new URL("../../shared/vectors/syrup-zoo.bin", import.meta.url);
const bytes = Deno.readFileSync(zooPath);
const zoo = decode(bytes) as SyrupRecord;
const [title, animals] = zoo.fields as [string, Map<symbol, unknown>[]];
console.log(`zoo vector: ${bytes.length} bytes, record "${title}"`);
for (const animal of animals) {
  const field = (name: string) => animal.get(Symbol.for(name));
  const eats = [...(field("eats") as Set<Uint8Array>)]
    .map((b) => new TextDecoder().decode(b));
  console.log(
    `  ${new TextDecoder().decode(field("species") as Uint8Array)} ` +
      `${field("name")}, age ${field("age")}, weight ${field("weight")}, ` +
      `alive? ${field("alive?")}, eats {${eats.join(" ")}}`,
  );
}
const again = encode(zoo);
const same = again.length === bytes.length &&
  again.every((b, i) => b === bytes[i]);
console.log(`re-encoded byte for byte: ${same}`);

const uri =
  "ocapn://abc123.tcp-testing-only/s/my%20swiss?host=127.0.0.1&port=22045";
const ref = parseSturdyRefUri(uri);
console.log(`\nsturdyref ${uri}`);
console.log(`  transport  ${ref.peer.transport}`);
console.log(`  designator ${ref.peer.designator}`);
console.log(`  hints      ${JSON.stringify(ref.peer.hints)}`);
console.log(`  swiss      ${new TextDecoder().decode(ref.swissNum)}`);
console.log(`  as Syrup   ${encode(sturdyRefToSyrup(ref)).length} bytes`);
console.log(`  formatted  ${formatSturdyRefUri(ref)}`);
if (!same) Deno.exit(1);
