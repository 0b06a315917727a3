/**
 * The URI form of OCapN locators (Locators.md "URI Serialization"):
 *   ocapn://<designator>.<transport>[/s/<swiss-num>][?key=value&...]
 * URIs come from people, so the parser throws SyntaxError naming what is
 * wrong, and never quotes a swiss number (it is a capability). Import these
 * from locator.ts; this module exists to keep that one short.
 */

import type { OCapNPeer, OCapNSturdyRef } from "./locator.ts";
import { quote } from "./errors.ts";
import { percentDecode, percentEncode } from "./_percent.ts";

const utf8 = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Whether a locator (e.g. a parsed URI) is a sturdyref rather than a peer. */
export function isSturdyRef(
  value: OCapNPeer | OCapNSturdyRef,
): value is OCapNSturdyRef {
  return "swissNum" in value;
}

// Assigning "__proto__" on a plain object would set its prototype.
export function setOwn(
  obj: Record<string, string>,
  key: string,
  value: string,
) {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

export function checkPeer(peer: OCapNPeer): void {
  const { transport, designator, hints } = peer;
  if (typeof transport !== "string" || transport === "") {
    throw new TypeError(
      `Transport must be a non-empty string, got ${quote(transport)}`,
    );
  }
  if (transport.includes(".")) {
    throw new TypeError(
      `Transport must not contain ".", got ${quote(transport)}`,
    );
  }
  if (typeof designator !== "string" || designator === "") {
    throw new TypeError(
      `Designator must be a non-empty string, got ${quote(designator)}`,
    );
  }
  if (typeof hints !== "object" || hints === null) {
    throw new TypeError(
      `Hints must be an object of strings, got ${quote(hints)}`,
    );
  }
  for (const key of Object.keys(hints)) {
    if (typeof hints[key] !== "string") {
      throw new TypeError(
        `Hint ${quote(key)} must be a string, got ${quote(hints[key])}`,
      );
    }
  }
}

function encodeText(text: string, field: string): string {
  if (!text.isWellFormed()) {
    throw new TypeError(
      `${field} must be well-formed Unicode, got ${quote(text)}`,
    );
  }
  return percentEncode(utf8.encode(text));
}

function formatQuery(hints: Record<string, string>): string {
  const parts: string[] = [];
  for (const key of Object.keys(hints)) {
    if (key === "") throw new TypeError("Hint key must not be empty in a URI");
    parts.push(
      `${encodeText(key, "Hint key")}=${encodeText(hints[key], "Hint value")}`,
    );
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** `ocapn://<designator>.<transport>[?hints]`; every string escaped per RFC 3986. */
export function formatPeerUri(peer: OCapNPeer): string {
  checkPeer(peer);
  return `ocapn://${encodeText(peer.designator, "Designator")}.` +
    `${encodeText(peer.transport, "Transport")}${formatQuery(peer.hints)}`;
}

/** `ocapn://<designator>.<transport>/s/<swiss-num>[?hints]`. */
export function formatSturdyRefUri(ref: OCapNSturdyRef): string {
  checkPeer(ref.peer);
  if (!(ref.swissNum instanceof Uint8Array) || ref.swissNum.length === 0) {
    throw new TypeError(
      `Swiss number must be non-empty bytes, got ${quote(ref.swissNum)}`,
    );
  }
  const { designator, transport, hints } = ref.peer;
  return `ocapn://${encodeText(designator, "Designator")}.` +
    `${encodeText(transport, "Transport")}/s/${percentEncode(ref.swissNum)}` +
    formatQuery(hints);
}

/** Either kind of locator, formatted as its URI. */
export function formatUri(locator: OCapNPeer | OCapNSturdyRef): string {
  return isSturdyRef(locator)
    ? formatSturdyRefUri(locator)
    : formatPeerUri(locator);
}

function decodeText(
  raw: string,
  what: { field: string; chars: RegExp },
): string {
  const bytes = percentDecode(raw, what);
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw new SyntaxError(
      `Expected UTF-8 once unescaped in ${what.field} ${quote(raw)}`,
    );
  }
}

// RFC 3986 character classes, beyond unreserved and percent escapes:
// reg-name adds sub-delims; a path segment (pchar) adds ":" and "@"; a query
// adds "/" and "?", less "&" and "=" which separate the hints.
const AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=%]*$/;
const SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/;
const QUERY = /^[A-Za-z0-9\-._~!$'()*+,;:@/?%]*$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Parse a peer or sturdyref URI. SyntaxError for a wrong scheme, a missing
 * transport or designator, a bad percent escape, an unknown path, a
 * fragment, or malformed hints.
 */
export function parseUri(uri: string): OCapNPeer | OCapNSturdyRef {
  if (typeof uri !== "string") {
    throw new TypeError(`OCapN URI must be a string, got ${quote(uri)}`);
  }
  const scheme = SCHEME.exec(uri);
  if (scheme === null || scheme[1].toLowerCase() !== "ocapn") {
    // Never quote the whole URI: a sturdyref URI carries a secret.
    const got = scheme === null ? "no scheme" : quote(scheme[0]);
    throw new SyntaxError(`Expected an "ocapn:" URI, got ${got}`);
  }
  let rest = uri.slice(scheme[0].length);
  if (!rest.startsWith("//")) {
    throw new SyntaxError(`Expected "//" after "ocapn:"`);
  }
  rest = rest.slice(2);
  if (rest.includes("#")) {
    throw new SyntaxError("Fragment not allowed in an OCapN URI");
  }
  const queryAt = rest.indexOf("?");
  const query = queryAt === -1 ? "" : rest.slice(queryAt + 1);
  const hier = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const pathAt = hier.indexOf("/");
  const authority = pathAt === -1 ? hier : hier.slice(0, pathAt);
  const path = pathAt === -1 ? "" : hier.slice(pathAt);

  // Locators.md: the designator may contain "."; the last one separates it
  // from the transport.
  const dot = authority.lastIndexOf(".");
  if (dot === -1 || dot === authority.length - 1) {
    throw new SyntaxError(
      `No transport after the last "." in ${quote(authority)}`,
    );
  }
  if (dot === 0) {
    throw new SyntaxError(`Empty designator in ${quote(authority)}`);
  }
  const designator = decodeText(authority.slice(0, dot), {
    field: "designator",
    chars: AUTHORITY,
  });
  const transport = decodeText(authority.slice(dot + 1), {
    field: "transport",
    chars: AUTHORITY,
  });
  if (transport.includes(".")) {
    throw new SyntaxError(
      `Transport must not contain ".", got ${quote(transport)}`,
    );
  }
  const peer: OCapNPeer = { transport, designator, hints: parseQuery(query) };
  if (path === "") return peer;
  // Quote only the first segment: the rest may be a swiss number.
  const first = path.slice(0, path.indexOf("/", 1) + 1 || path.length);
  if (first !== "/s/") {
    throw new SyntaxError(`Unknown path ${quote(first)}, expected "/s/"`);
  }
  const raw = path.slice(3);
  if (raw === "") throw new SyntaxError("Empty swiss number in sturdyref URI");
  if (raw.includes("/")) {
    throw new SyntaxError(`Unknown path after the swiss number, expected none`);
  }
  const swissNum = percentDecode(raw, {
    field: "swiss number",
    chars: SEGMENT,
    secret: true,
  });
  return { peer, swissNum };
}

function parseQuery(query: string): Record<string, string> {
  const hints: Record<string, string> = {};
  if (query === "") return hints;
  // "+" is not a space here: RFC 3986 gives it no meaning, and formatUri
  // always escapes it.
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      throw new SyntaxError(`Hint must be "key=value", got ${quote(part)}`);
    }
    const key = decodeText(part.slice(0, eq), {
      field: "hint key",
      chars: QUERY,
    });
    const value = decodeText(part.slice(eq + 1), {
      field: "hint value",
      chars: QUERY,
    });
    if (Object.hasOwn(hints, key)) {
      throw new SyntaxError(`Duplicate hint ${quote(key)}`);
    }
    setOwn(hints, key, value);
  }
  return hints;
}

/** Parse a URI that must name a peer (no `/s/` path). */
export function parsePeerUri(uri: string): OCapNPeer {
  const parsed = parseUri(uri);
  if (isSturdyRef(parsed)) {
    throw new SyntaxError("Expected a peer URI, got a sturdyref URI");
  }
  return parsed;
}

/** Parse a URI that must name a sturdyref (`/s/<swiss-num>`). */
export function parseSturdyRefUri(uri: string): OCapNSturdyRef {
  const parsed = parseUri(uri);
  if (!isSturdyRef(parsed)) {
    throw new SyntaxError(`Expected a sturdyref URI, got ${quote(uri)}`);
  }
  return parsed;
}
