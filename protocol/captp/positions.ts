/**
 * Position types of the four CapTP tables (CapTP draft, "Descriptors" and
 * "Tables"; shared/ocapn-notes.md "CapTP").
 *
 * Why it exists: a descriptor's number means a different table depending on
 * who wrote it (`<desc:export 3>` from the peer is our export 3, from us it
 * is their export 3, our import 3). Branding each table's positions makes
 * the type checker catch a position read from the wrong table, as
 * Cap'n Proto's rpc.capnp does with its four id kinds.
 */

/** A position in our exports table; chosen by us. 0 is the bootstrap object. */
export type ExportPos = number & { readonly __table: "export" };
/** A position in our imports table; chosen by the peer (its export position). */
export type ImportPos = number & { readonly __table: "import" };
/** A position in our questions table; chosen by us (the peer's answer position). */
export type QuestionPos = number & { readonly __table: "question" };
/** A position in our answers table; chosen by the peer (its question). */
export type AnswerPos = number & { readonly __table: "answer" };

/** The bootstrap object lives at export position 0 in every session. */
export const BOOTSTRAP_POS = 0 as ExportPos;

/**
 * Positions on the wire are Syrup integers of any size; we refuse anything
 * past 2^32 - 1 so that a table index is always a small JS number and a
 * hostile peer cannot make us allocate a sparse giant array.
 */
export const MAX_POSITION = 0xffff_ffff;
