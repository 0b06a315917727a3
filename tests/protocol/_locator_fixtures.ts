/**
 * Locators shared by the locator tests (locator_test.ts for the Syrup
 * records, locator_uri_test.ts for ocapn:// URIs): a peer with hints, one
 * without, and a swiss number.
 */
import type { OCapNPeer } from "../../protocol/locator.ts";

export const tcp: OCapNPeer = {
  transport: "tcp-testing-only",
  designator: "abc",
  hints: { host: "127.0.0.1", port: "22045" },
};
export const bare: OCapNPeer = {
  transport: "onion",
  designator: "xyz",
  hints: {},
};
export const swiss = new TextEncoder().encode(
  "JadQ0++RzsD4M+40uLxTWVaVqM10DcBJ",
);
