/**
 * How the Syrup encoder reports a value outside the model.
 *
 * Syrup draft (ocapn/syrup), "Encoding": only the types in value.ts have a
 * spelling. A failure deep inside a message is thrown as an EncodeFailure,
 * which collects the path ("$.fields[2][0]") while unwinding, and encode()
 * turns it into one TypeError at the top; split from encode.ts so the hot
 * path reads in one sitting.
 */

/** Thrown inside the encoder; collects the path while unwinding, turned into a TypeError at the top. */
export class EncodeFailure {
  readonly reason: string;
  readonly path: string[] = [];
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** Adds one step of the path to a failure passing through a container. */
export function withPath(error: unknown, segment: string): unknown {
  if (error instanceof EncodeFailure) error.path.unshift(segment);
  return error;
}

/** A short, safe description of a value that cannot be encoded. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return quote(value);
    case "function":
      return `a function ${quote(value.name)}`;
    case "symbol":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "object": {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name ? `an object of type ${quote(name)}` : "an object";
    }
    default:
      return String(value);
  }
}

export function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return JSON.stringify(shown);
}
