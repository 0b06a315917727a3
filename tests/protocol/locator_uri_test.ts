/**
 * Locators as ocapn:// URIs (protocol/_locator_uri.ts, exported by
 * protocol/locator.ts): a table of URIs both ways, every malformed form
 * rejected with its reason, swiss numbers kept out of errors, and a seeded
 * property test that parseUri() undoes formatUri().
 */
import assert from "node:assert/strict";
import { throwsExactly } from "../_assert.ts";
import {
  formatPeerUri,
  formatSturdyRefUri,
  formatUri,
  isSturdyRef,
  type OCapNPeer,
  type OCapNSturdyRef,
  parsePeerUri,
  parseSturdyRefUri,
  parseUri,
} from "../../protocol/locator.ts";
import { Prng } from "./syrup/_arbitrary.ts";
import { bare, swiss, tcp } from "./_locator_fixtures.ts";

// [URI as formatted, locator]: format gives the URI, parse gives the locator.
const URIS: [string, OCapNPeer | OCapNSturdyRef][] = [
  ["ocapn://xyz.onion", bare],
  ["ocapn://abc.tcp-testing-only?host=127.0.0.1&port=22045", tcp],
  ["ocapn://a.b.c.onion", { ...bare, designator: "a.b.c" }],
  ["ocapn://a..onion", { ...bare, designator: "a." }],
  ["ocapn://a%20b%2Fc%3Fd%23e%25.onion", { ...bare, designator: "a b/c?d#e%" }],
  ["ocapn://%C3%A9%F0%9F%98%80.onion", {
    ...bare,
    designator: "\u00e9\u{1F600}",
  }],
  ["ocapn://xyz.onion?k%3D=v%26%2B%3D", { ...bare, hints: { "k=": "v&+=" } }],
  ["ocapn://xyz.onion?empty=", { ...bare, hints: { empty: "" } }],
  ["ocapn://xyz.onion/s/JadQ0%2B%2BRzsD4M%2B40uLxTWVaVqM10DcBJ", {
    peer: bare,
    swissNum: swiss,
  }],
  ["ocapn://abc.tcp-testing-only/s/%00%FFa?host=127.0.0.1&port=22045", {
    peer: tcp,
    swissNum: new Uint8Array([0, 255, 0x61]),
  }],
];

for (const [uri, locator] of URIS) {
  Deno.test(`formatUri() and parseUri() agree on ${uri}`, () => {
    assert.equal(formatUri(locator), uri);
    assert.deepEqual(parseUri(uri), locator);
  });
}

Deno.test("parseUri() accepts lowercase escapes, an uppercase scheme and literal sub-delims", () => {
  assert.deepEqual(parseUri("OCAPN://a%2fb!$'(),;.onion/s/x:@y"), {
    peer: { ...bare, designator: "a/b!$'(),;" },
    swissNum: new TextEncoder().encode("x:@y"),
  });
});

Deno.test("parseUri() reads + in a hint as a plus, not a space", () => {
  assert.deepEqual(parsePeerUri("ocapn://x.onion?k=a+b").hints, { k: "a+b" });
});

Deno.test("parsePeerUri() and parseSturdyRefUri() insist on their kind", () => {
  throwsExactly(
    () => parsePeerUri("ocapn://x.onion/s/abc"),
    SyntaxError,
    /Expected a peer URI/,
  );
  throwsExactly(
    () => parseSturdyRefUri("ocapn://x.onion"),
    SyntaxError,
    /Expected a sturdyref URI/,
  );
  assert.ok(isSturdyRef(parseSturdyRefUri("ocapn://x.onion/s/abc")));
  assert.equal(formatPeerUri(bare), "ocapn://xyz.onion");
});

const MALFORMED: [string, string, RegExp][] = [
  ["a wrong scheme", "http://x.onion", /Expected an "ocapn:" URI, got "http:"/],
  ["no scheme", "x.onion", /Expected an "ocapn:" URI, got no scheme/],
  ["no //", "ocapn:x.onion", /Expected "\/\/" after "ocapn:"/],
  ["no transport", "ocapn://abc", /No transport after the last "\." in "abc"/],
  ["an empty transport", "ocapn://abc.", /No transport/],
  ["an empty designator", "ocapn://.onion", /Empty designator in "\.onion"/],
  [
    "a bad percent escape",
    "ocapn://a%zz.onion",
    /Bad percent escape "%zz" in designator at index 1/,
  ],
  [
    "a truncated percent escape",
    "ocapn://a.onion?k=%4",
    /Bad percent escape "%4" in hint value/,
  ],
  [
    "an invalid character",
    "ocapn://a b.onion",
    /Invalid character " " in designator at index 1/,
  ],
  [
    "a port-like colon",
    "ocapn://host:22.onion",
    /Invalid character ":" in designator/,
  ],
  [
    "a non-UTF-8 designator",
    "ocapn://%FF.onion",
    /Expected UTF-8 once unescaped in designator "%FF"/,
  ],
  [
    "a transport containing an escaped dot",
    "ocapn://a.tc%2Ep",
    /Transport must not contain "\.", got "tc\.p"/,
  ],
  [
    "an unknown path",
    "ocapn://a.onion/x/y",
    /Unknown path "\/x\/", expected "\/s\/"/,
  ],
  ["a trailing slash", "ocapn://a.onion/", /Unknown path "\/"/],
  ["an empty swiss number", "ocapn://a.onion/s/", /Empty swiss number/],
  [
    "a segment after the swiss number",
    "ocapn://a.onion/s/abc/def",
    /Unknown path after the swiss number/,
  ],
  ["a fragment", "ocapn://a.onion#frag", /Fragment not allowed/],
  [
    "a hint without =",
    "ocapn://a.onion?flag",
    /Hint must be "key=value", got "flag"/,
  ],
  [
    "an empty hint key",
    "ocapn://a.onion?=v",
    /Hint must be "key=value", got "=v"/,
  ],
  [
    "an empty hint",
    "ocapn://a.onion?a=1&&b=2",
    /Hint must be "key=value", got ""/,
  ],
  ["a duplicate hint", "ocapn://a.onion?k=1&k=2", /Duplicate hint "k"/],
];

for (const [name, uri, message] of MALFORMED) {
  Deno.test(`parseUri() rejects ${name}`, () => {
    throwsExactly(() => parseUri(uri), SyntaxError, message);
  });
}

Deno.test("parseUri() never quotes a swiss number in its errors", () => {
  const err = throwsExactly(
    () => parseUri("ocapn://a.onion/s/sec ret%zz"),
    SyntaxError,
    /swiss number at index 3/,
  );
  assert.doesNotMatch(err.message, /sec/);
  const other = throwsExactly(
    () => parseUri("ocap://a.onion/s/secret"),
    SyntaxError,
    /"ocap:"/,
  );
  assert.doesNotMatch(other.message, /secret/);
});

Deno.test("formatUri() refuses what a URI cannot carry", () => {
  throwsExactly(
    () => formatUri({ ...bare, designator: "\ud800" }),
    TypeError,
    /Designator must be well-formed Unicode/,
  );
  throwsExactly(
    () => formatUri({ ...bare, hints: { "": "v" } }),
    TypeError,
    /Hint key must not be empty/,
  );
  throwsExactly(
    () => formatSturdyRefUri({ peer: bare, swissNum: new Uint8Array() }),
    TypeError,
    /non-empty bytes/,
  );
  throwsExactly(
    () => formatUri({ ...bare, transport: "a.b" }),
    TypeError,
    /must not contain "\."/,
  );
});

const AWKWARD = [
  ..."aZ09-._~ %/?#&=+:@!$'()*,;[]\"<>\\^`{|}",
  "\u00e9",
  "\u{1F600}",
  "\u0000",
];

function randomText(
  int: (n: number) => number,
  min: number,
  avoid = "",
): string {
  let out = "";
  const length = min + int(8);
  while (out.length < length) {
    const c = AWKWARD[int(AWKWARD.length)];
    if (!avoid.includes(c)) out += c;
  }
  return out;
}

function randomPeer(int: (n: number) => number): OCapNPeer {
  const hints: Record<string, string> = {};
  for (let i = int(4); i > 0; i--) {
    hints[randomText(int, 1)] = randomText(int, 0);
  }
  return {
    transport: randomText(int, 1, "."),
    designator: randomText(int, 1),
    hints,
  };
}

Deno.test("parseUri(formatUri(x)) is x for random locators with awkward characters", () => {
  // mulberry32, seeded so a failure can be replayed.
  const rng = new Prng(0x10ca7);
  const int = (n: number) => rng.int(n);
  for (let i = 0; i < 500; i++) {
    const peer = randomPeer(int);
    const locator = int(2) === 0
      ? peer
      : { peer, swissNum: new Uint8Array(1 + int(12)).map(() => int(256)) };
    assert.deepEqual(parseUri(formatUri(locator)), locator, `case ${i}`);
  }
});
