/**
 * Reading a fuzzer's run size and seed from the environment, so a long run
 * or the replay of one failing seed needs no edit; a run without
 * --allow-env gets the defaults.
 */

export function envNumber(name: string, fallback: number): number {
  try {
    const value = Deno.env.get(name);
    return value === undefined ? fallback : Number(value);
  } catch {
    return fallback; // no --allow-env
  }
}

export function envString(name: string): string {
  try {
    return Deno.env.get(name) ?? "";
  } catch {
    return "";
  }
}
