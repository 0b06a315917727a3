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
  peerFromSyrup,
  peerToSyrup,
  samePeer,
  sturdyRefFromSyrup,
  sturdyRefToSyrup,
} from "../../protocol/locator.ts";
import { MalformedValueError } from "../../protocol/errors.ts";
import {
  decode,
  encode,
  record,
  type SyrupValue,
} from "../../protocol/syrup/mod.ts";

const text = new TextEncoder();
const tcp: OCapNPeer = {
  transport: "tcp-testing-only",
  designator: "abc",
  hints: { host: "127.0.0.1", port: "22045" },
};
const bare: OCapNPeer = { transport: "onion", designator: "xyz", hints: {} };
const swiss = text.encode("JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ");

Deno.test("peerToSyrup() writes <ocapn-peer transport designator hints>", () => {
  assert.deepEqual(
    peerToSyrup(tcp),
    record(
      "ocapn-peer",
      Symbol.for("tcp-testing-only"),
      "abc",
      new Map([["host", "127.0.0.1"], ["port", "22045"]]),
    ),
  );
});

Deno.test("peerToSyrup() writes false for empty hints, as the draft and Endo do", () => {
  assert.deepEqual(
    new TextDecoder().decode(encode(peerToSyrup(bare))),
    `<10'ocapn-peer5'onion3"xyzf>`,
  );
});

Deno.test("sturdyRefToSyrup() writes the swiss number as bytes", () => {
  assert.deepEqual(
    sturdyRefToSyrup({ peer: bare, swissNum: swiss }),
    record("ocapn-sturdyref", peerToSyrup(bare), swiss),
  );
});

Deno.test("peer and sturdyref records round trip through the Syrup codec", () => {
  for (const peer of [tcp, bare]) {
    assert.deepEqual(peerFromSyrup(decode(encode(peerToSyrup(peer)))), peer);
    const ref = { peer, swissNum: swiss };
    assert.deepEqual(
      sturdyRefFromSyrup(decode(encode(sturdyRefToSyrup(ref)))),
      ref,
    );
  }
});

Deno.test("peerFromSyrup() accepts an empty struct and symbol hint keys", () => {
  const fields = [Symbol.for("onion"), "xyz"];
  assert.deepEqual(
    peerFromSyrup(record("ocapn-peer", ...fields, new Map())),
    bare,
  );
  const symbolKeys = new Map([[Symbol.for("host"), "h"]]);
  assert.deepEqual(
    peerFromSyrup(record("ocapn-peer", ...fields, symbolKeys)).hints,
    { host: "h" },
  );
});

Deno.test("sturdyRefFromSyrup() accepts a string swiss number and returns bytes", () => {
  const ref = sturdyRefFromSyrup(
    record(
      "ocapn-sturdyref",
      peerToSyrup(bare),
      "JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ",
    ),
  );
  assert.deepEqual(ref, { peer: bare, swissNum: swiss });
});

Deno.test("peerFromSyrup() and sturdyRefFromSyrup() name the malformed field", () => {
  const peer = (t: SyrupValue, d: SyrupValue, h: SyrupValue) =>
    record("ocapn-peer", t, d, h);
  const onion = Symbol.for("onion");
  const cases: [SyrupValue, RegExp][] = [
    [
      record("ocapn-node", "x", onion, false),
      /Expected a <ocapn-peer> record, got a record <'ocapn-node \.\.\.> at ocapn-peer$/,
    ],
    [record("ocapn-peer", onion, "x"), /takes 3 fields, got 2 at ocapn-peer$/],
    [
      peer("onion", "x", false),
      /Transport must be a symbol without "\.", got "onion" at ocapn-peer\.transport$/,
    ],
    [
      peer(Symbol.for("a.b"), "x", false),
      /got 'a\.b at ocapn-peer\.transport$/,
    ],
    [peer(Symbol.for(""), "x", false), /at ocapn-peer\.transport$/],
    [
      peer(onion, 5n, false),
      /Designator must be a non-empty string, got 5n at ocapn-peer\.designator$/,
    ],
    [peer(onion, "", false), /at ocapn-peer\.designator$/],
    [
      peer(onion, "x", true),
      /Hints must be a struct or false, got true at ocapn-peer\.hints$/,
    ],
    [
      peer(onion, "x", new Map([[1n, "v"]])),
      /Hint key must be a string, got 1n at ocapn-peer\.hints$/,
    ],
    [
      peer(onion, "x", new Map([["port", 22045n]])),
      /Hint value must be a string, got 22045n at ocapn-peer\.hints\.port$/,
    ],
  ];
  for (const [value, message] of cases) {
    throwsExactly(() => peerFromSyrup(value), MalformedValueError, message);
  }
  throwsExactly(
    () =>
      sturdyRefFromSyrup(
        record("ocapn-sturdyref", peer(onion, 1n, false), swiss),
      ),
    MalformedValueError,
    /at ocapn-sturdyref\.peer\.designator$/,
  );
  throwsExactly(
    () => sturdyRefFromSyrup(record("ocapn-sturdyref", peerToSyrup(bare), 7n)),
    MalformedValueError,
    /Swiss number must be bytes or a string, got 7n at ocapn-sturdyref\.swissNum$/,
  );
  throwsExactly(
    () => sturdyRefFromSyrup(peerToSyrup(bare)),
    MalformedValueError,
    /Expected a <ocapn-sturdyref> record/,
  );
});

Deno.test("peerToSyrup() refuses a locator the draft cannot carry", () => {
  throwsExactly(
    () => peerToSyrup({ ...bare, transport: "a.b" }),
    TypeError,
    /Transport must not contain "\."/,
  );
  throwsExactly(
    () => peerToSyrup({ ...bare, designator: "" }),
    TypeError,
    /Designator must be a non-empty string/,
  );
  const hints = { port: 1 } as unknown as Record<string, string>;
  throwsExactly(
    () => peerToSyrup({ ...bare, hints }),
    TypeError,
    /Hint "port" must be a string, got 1/,
  );
});

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
    swissNum: text.encode("x:@y"),
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

// mulberry32, seeded so a failure can be replayed.
function prng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

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
  const int = prng(0x10ca7);
  for (let i = 0; i < 500; i++) {
    const peer = randomPeer(int);
    const locator = int(2) === 0
      ? peer
      : { peer, swissNum: new Uint8Array(1 + int(12)).map(() => int(256)) };
    assert.deepEqual(parseUri(formatUri(locator)), locator, `case ${i}`);
  }
});

Deno.test("samePeer() compares transport and designator and ignores hints", () => {
  assert.ok(samePeer(tcp, { ...tcp, hints: {} }));
  assert.ok(samePeer(tcp, { ...tcp, hints: { host: "10.0.0.1", port: "1" } }));
  assert.ok(!samePeer(tcp, { ...tcp, designator: "abd" }));
  assert.ok(!samePeer(tcp, { ...tcp, transport: "onion" }));
});
