/**
 * The dense per-kind handle table of protocol/registry.ts, and the entry
 * record both kinds of key share. Split out to keep each file readable; the
 * registry is the only caller of its hooks.
 */

import { MinHeap } from "./_min_heap.ts";

export type Handle = number;
export type DisposeReason = "released" | "expired" | "closed";

export interface EntryOptions<T> {
  /** Clock milliseconds; at or after it the entry expires. */
  deadline?: number;
  /** Runs exactly once when the entry leaves the registry. */
  dispose?: (value: T, why: DisposeReason) => void;
}

/** @internal */
export interface Entry {
  readonly kind: string;
  value: unknown;
  readonly dispose: ((value: never, why: DisposeReason) => void) | undefined;
  deadline: number;
  live: boolean;
  /** The handle table holding it, or undefined for a hashcode entry. */
  readonly table: HandleTable<unknown> | undefined;
  readonly id: number;
}

/** What HandleTable needs from its registry, kept off the public surface. */
export interface TableHooks {
  add(entry: Entry): void;
  finish(entry: Entry, why: DisposeReason): boolean;
  extend(entry: Entry, deadline: number | undefined): void;
}

export const UNLINK = Symbol("unlink");
export const ENTRIES = Symbol("entries");

/** A dense table of one kind: handles 0, 1, 2, ... with lowest-free reuse. */
export class HandleTable<T> {
  #slots: (Entry | undefined)[] = [];
  #free = new MinHeap<number>((a, b) => a < b);
  #hooks: TableHooks;
  #size = 0;

  constructor(readonly kind: string, hooks: TableHooks) {
    this.#hooks = hooks;
  }

  /** Live entries. */
  get size(): number {
    return this.#size;
  }

  /** Length of the table, which never shrinks. */
  get capacity(): number {
    return this.#slots.length;
  }

  allocate(value: T, options: EntryOptions<T> = {}): Handle {
    const handle = this.#free.peek() ?? this.#slots.length;
    const entry = makeEntry(this.kind, value, options, this, handle);
    this.#hooks.add(entry);
    if (handle === this.#free.peek()) this.#free.pop();
    this.#slots[handle] = entry;
    this.#size++;
    return handle;
  }

  /** Throws RangeError when `handle` is not allocated. */
  get(handle: Handle): T {
    const entry = this.#slots[handle];
    if (entry === undefined || !Number.isInteger(handle)) {
      throw new RangeError(
        `Handle "${handle}" is not allocated in "${this.kind}"`,
      );
    }
    return entry.value as T;
  }

  lookup(handle: unknown): T | undefined {
    if (typeof handle !== "number" || !Number.isInteger(handle)) {
      return undefined;
    }
    return this.#slots[handle]?.value as T | undefined;
  }

  has(handle: Handle): boolean {
    return Number.isInteger(handle) && this.#slots[handle] !== undefined;
  }

  set(handle: Handle, value: T): void {
    this.get(handle);
    this.#slots[handle]!.value = value;
  }

  release(handle: Handle): boolean {
    const entry = Number.isInteger(handle) ? this.#slots[handle] : undefined;
    return entry === undefined ? false : this.#hooks.finish(entry, "released");
  }

  extend(handle: Handle, deadline: number | undefined): void {
    this.get(handle);
    this.#hooks.extend(this.#slots[handle]!, deadline);
  }

  *entries(): IterableIterator<[Handle, T]> {
    for (let h = 0; h < this.#slots.length; h++) {
      const entry = this.#slots[h];
      if (entry !== undefined) yield [h, entry.value as T];
    }
  }

  [UNLINK](handle: Handle): void {
    this.#slots[handle] = undefined;
    this.#free.push(handle);
    this.#size--;
  }

  [ENTRIES](): Entry[] {
    return this.#slots.filter((e): e is Entry => e !== undefined);
  }
}

export function makeEntry<T>(
  kind: string,
  value: T,
  options: EntryOptions<T>,
  table: HandleTable<unknown> | undefined,
  id: number,
): Entry {
  const deadline = options.deadline ?? Infinity;
  if (typeof deadline !== "number") {
    throw new TypeError(`Invalid deadline "${String(deadline)}"`);
  }
  return {
    kind,
    value,
    dispose: options.dispose as Entry["dispose"],
    deadline,
    live: true,
    table,
    id,
  };
}
