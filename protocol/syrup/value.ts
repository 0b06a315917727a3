/**
 * The Syrup value model: which TypeScript value stands for which Syrup type.
 *
 * Syrup draft (ocapn/syrup), the table in shared/ocapn-notes.md. This file is
 * the contract between the codec and everything above it; it has no logic
 * beyond the record type.
 *
 * | Syrup      | TypeScript                                            |
 * |------------|-------------------------------------------------------|
 * | boolean    | `boolean`                                             |
 * | integer    | `bigint` (always; a `number` is never an integer)     |
 * | float64    | `number` (NaN, -0 and the infinities kept)            |
 * | float32    | `number` on input only; never emitted                 |
 * | bytes      | `Uint8Array`                                          |
 * | string     | `string` (well-formed UTF-16; lone surrogates refused)|
 * | symbol     | a registered JS symbol, `Symbol.for(name)`            |
 * | list       | `SyrupValue[]`                                        |
 * | dictionary | `Map<SyrupValue, SyrupValue>`                         |
 * | record     | `SyrupRecord` (label and fields)                      |
 * | set        | `Set<SyrupValue>`                                     |
 */

export type SyrupValue =
  | boolean
  | bigint
  | number
  | string
  | symbol
  | Uint8Array
  | SyrupValue[]
  | Map<SyrupValue, SyrupValue>
  | Set<SyrupValue>
  | SyrupRecord;

/** `<label field ...>`. The label is normally a symbol. */
export class SyrupRecord {
  readonly label: SyrupValue;
  readonly fields: SyrupValue[];
  constructor(label: SyrupValue, fields: SyrupValue[]) {
    this.label = label;
    this.fields = fields;
  }
}

/** Shorthand for a record with a symbol label. */
export function record(label: string, ...fields: SyrupValue[]): SyrupRecord {
  return new SyrupRecord(Symbol.for(label), fields);
}

/** The name of a record's label when it is a symbol, else undefined. */
export function labelOf(value: SyrupValue): string | undefined {
  if (!(value instanceof SyrupRecord)) return undefined;
  return typeof value.label === "symbol"
    ? Symbol.keyFor(value.label)
    : undefined;
}
