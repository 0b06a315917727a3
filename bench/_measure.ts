/**
 * Measures the `Deno.bench` registrations of one bench file and reports
 * medians, which `deno bench --json` does not give (it gives min, mean and
 * upper percentiles). The bench files stay plain `Deno.bench` files, so
 * `deno bench bench/x_bench.ts` still works on them; this module swaps
 * `Deno.bench` for a recorder before importing one.
 *
 * Each case is warmed up, then timed in batches sized to last about
 * `batchMs`; the figure is the median per-iteration time over the batches.
 * A case that uses `b.start()` / `b.end()` is timed by those spans instead.
 *
 * Multi-process scripts (`*_script.ts`) share the rest: the row format they
 * print, the median, spawning themselves as a `--child`, and reading the
 * JSON lines a child writes.
 */

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baseline_value: number | null;
  ratio: number | null;
}

interface Case {
  name: string;
  group?: string;
  baseline?: boolean;
  ignore?: boolean;
  fn: (b: Deno.BenchContext) => void | Promise<void>;
}

type BenchFn = Case["fn"];
type BenchArgs =
  | [BenchFn]
  | [string, BenchFn]
  | [Omit<Case, "fn"> & { fn?: BenchFn }]
  | [Omit<Case, "fn" | "name"> & { name?: string }, BenchFn]
  | [string, Omit<Case, "fn" | "name">, BenchFn];

function toCase(args: BenchArgs): Case {
  const fn = args.find((a) => typeof a === "function") as BenchFn | undefined;
  const opts = args.find((a) => typeof a === "object") as
    | Partial<Case>
    | undefined;
  const name = typeof args[0] === "string" ? args[0] : opts?.name ?? fn?.name;
  const body = fn ?? opts?.fn;
  if (!name || !body) {
    throw new TypeError("Deno.bench() needs a name and a function");
  }
  return { ...opts, name, fn: body };
}

async function timeBatch(fn: BenchFn, iterations: number): Promise<number> {
  let explicit = 0;
  let started = 0;
  let usedExplicit = false;
  const context = {
    name: "",
    origin: "",
    start() {
      usedExplicit = true;
      started = performance.now();
    },
    end() {
      explicit += performance.now() - started;
    },
  } as Deno.BenchContext;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const result = fn(context);
    if (result instanceof Promise) await result;
  }
  const elapsed = performance.now() - t0;
  return usedExplicit ? explicit : elapsed;
}

/** The median (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One row as scripts print it: 4 significant digits, the ratio to 3. */
export function benchRow(
  name: string,
  value: number,
  unit: string,
  baseline?: [string, number],
): BenchRow {
  return {
    name,
    value: Number(value.toPrecision(4)),
    unit,
    baseline: baseline?.[0] ?? null,
    baseline_value: baseline ? Number(baseline[1].toPrecision(4)) : null,
    ratio: baseline ? Number((value / baseline[1]).toPrecision(3)) : null,
  };
}

/** Prints `row` as one JSON line, unless `filter` is given and its name lacks it. */
export function printRow(row: BenchRow, filter?: string): void {
  if (filter && !row.name.includes(filter)) return;
  console.log(JSON.stringify(row));
}

/**
 * Runs the script at `script` again with `--child`, stdin and stdout piped
 * to this process; `denoFlags` go to deno before the script's path.
 */
export function spawnChild(
  script: string,
  denoFlags: string[] = [],
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", ...denoFlags, script, "--child"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** The JSON value on each line of `stream`, in order. */
export async function* jsonLines(stream: ReadableStream<Uint8Array>) {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let at;
    while ((at = text.indexOf("\n")) >= 0) {
      yield JSON.parse(text.slice(0, at));
      text = text.slice(at + 1);
    }
  }
}

/** Median milliseconds per iteration of one case. */
async function measure(
  fn: BenchFn,
  options: { batchMs: number; samples: number },
): Promise<number> {
  // Warm up and find a batch size that lasts about batchMs.
  let iterations = 1;
  for (;;) {
    const ms = await timeBatch(fn, iterations);
    if (ms >= options.batchMs || iterations >= 1 << 24) break;
    iterations = ms <= 0
      ? iterations * 16
      : Math.max(iterations * 2, Math.ceil(iterations * options.batchMs / ms));
  }
  const perIteration: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    perIteration.push(await timeBatch(fn, iterations) / iterations);
  }
  return median(perIteration);
}

/** Runs every registered case of `file` whose name, group or file matches. */
export async function measureFile(
  file: string,
  options: { filter?: string; batchMs?: number; samples?: number } = {},
): Promise<BenchRow[]> {
  const cases: Case[] = [];
  const original = Deno.bench;
  Object.defineProperty(Deno, "bench", {
    value: (...args: BenchArgs) => void cases.push(toCase(args)),
    configurable: true,
    writable: true,
  });
  try {
    await import(new URL(file, `file://${Deno.cwd()}/`).href);
  } finally {
    Object.defineProperty(Deno, "bench", {
      value: original,
      configurable: true,
      writable: true,
    });
  }
  const wanted = (c: Case) =>
    !c.ignore &&
    (!options.filter ||
      [file, c.group ?? "", c.name].some((s) => s.includes(options.filter!)));
  const chosen = cases.filter((c) =>
    wanted(c) ||
    // A chosen case's baseline is always measured with it.
    (c.baseline && cases.some((o) => o.group === c.group && wanted(o)))
  );
  const measured = new Map<Case, number>();
  for (const c of chosen) {
    measured.set(
      c,
      await measure(c.fn, {
        batchMs: options.batchMs ?? 25,
        samples: options.samples ?? 15,
      }),
    );
  }
  return chosen.map((c) => {
    const value = measured.get(c)! * 1000;
    const base = c.baseline
      ? undefined
      : chosen.find((o) => o.baseline && o.group === c.group);
    const baseValue = base ? measured.get(base)! * 1000 : null;
    return {
      name: c.group ? `${c.group}/${c.name}` : c.name,
      value,
      unit: "us/op",
      baseline: base ? `${base.group}/${base.name}` : null,
      baseline_value: baseValue,
      ratio: baseValue ? value / baseValue : null,
    };
  });
}
