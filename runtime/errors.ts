/**
 * The runtime layer's domain errors, each with a stable `code` callers can
 * switch on. Caller mistakes (sending to a non-reference, a missing method)
 * stay built-in TypeErrors.
 */

/** A vat was shut down: its queued and pending promises break with this. */
export class VatShutdownError extends Error {
  readonly code = "VAT_SHUTDOWN";
  override name = "VatShutdownError";
  constructor(readonly vat: string, readonly reason: unknown) {
    super(`Vat "${vat}" shut down: ${describe(reason)}`, { cause: reason });
  }
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === "string" ? reason : `"${String(reason)}"`;
}
