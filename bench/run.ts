/**
 * `deno task bench [--json] [filter]`: every benchmark in bench/, one table.
 *
 * - `*_bench.ts` files are `Deno.bench` files; each runs in its own process
 *   (bench/_measure.ts) and reports the median time per operation beside the
 *   baseline of its group, measured in the same run.
 * - `*_script.ts` files are multi-process benchmarks; each prints JSON lines
 *   in the row format below and takes the filter as its only argument.
 *
 * With `--json`, one object per line: name, value, unit, baseline,
 * baseline_value, ratio. Otherwise a readable table. For times, a ratio
 * above 1 means slower than the baseline; for rates, below 1 means slower.
 */
import { parseArgs } from "node:util";
import { type BenchRow, measureFile } from "./_measure.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    child: { type: "string" },
  },
  allowPositionals: true,
});
const filter = positionals[0];

if (values.child) {
  for (const row of await measureFile(values.child, { filter })) {
    console.log(JSON.stringify(row));
  }
  Deno.exit(0);
}

const benchDir = new URL(".", import.meta.url);
const files = [...Deno.readDirSync(benchDir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith("_bench.ts") || n.endsWith("_script.ts"))
  .sort();

async function runChild(file: string): Promise<BenchRow[]> {
  const path = new URL(file, benchDir).pathname;
  const isScript = file.endsWith("_script.ts");
  // A file whose name matches the filter runs whole; otherwise the filter
  // picks cases (bench files) or is the script's to interpret.
  const childFilter = filter && !file.includes(filter) ? [filter] : [];
  const args = isScript
    ? ["run", "-A", "--unstable-net", path, ...childFilter]
    : ["run", "-A", "--unstable-net", new URL("run.ts", benchDir).pathname]
      .concat(["--child", path, ...childFilter]);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    console.error(`${file} failed with exit code ${out.code}`);
    return [];
  }
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as BenchRow);
}

function figure(value: number | null, unit = ""): string {
  if (value === null) return "";
  const text = Math.abs(value) >= 1000
    ? value.toFixed(0)
    : value.toPrecision(3);
  return unit ? `${text} ${unit}` : text;
}

let failed = false;
const rows: BenchRow[] = [];
for (const file of files) {
  const got = await runChild(file);
  if (got.length === 0 && (!filter || file.includes(filter))) failed = true;
  for (const row of got) {
    rows.push(row);
    if (values.json) console.log(JSON.stringify(row));
  }
}

if (!values.json) {
  const table = rows.map((r) => [
    r.name,
    figure(r.value, r.unit),
    r.baseline ?? "",
    figure(r.baseline_value, r.baseline ? r.unit : ""),
    r.ratio === null ? "" : r.ratio.toFixed(2),
  ]);
  const head = [
    "benchmark",
    "median",
    "baseline (same run)",
    "baseline",
    "ratio",
  ];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...table.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])
    )
      .join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(line(row));
}
if (failed) Deno.exit(1);
