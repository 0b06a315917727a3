import assert from "node:assert/strict";
import { NoiseResources } from "../../netlayers/_listener_noise.ts";
import { Registry, RegistryClosedError } from "../../protocol/registry.ts";
import type { Clock } from "../../protocol/clock.ts";
import { SystemClock } from "../../runtime/system_clock.ts";
import { defaultCrypto } from "../../crypto/mod.ts";

const fixedClock: Clock = { now: () => 0, schedule: () => () => {} };

Deno.test("NoiseResources makes what is not given and closes only that", () => {
  const resources = new NoiseResources({});
  assert.equal(resources.crypto, defaultCrypto);
  assert.equal(resources.keyPair.publicKey.length, 32);
  assert.ok(resources.clock instanceof SystemClock);
  resources.close();
  assert.throws(() => resources.registry.mint("test", 1), RegistryClosedError);
});

Deno.test("NoiseResources leaves the identity, clock and registry it was given open", () => {
  const keyPair = defaultCrypto.ed25519.generateKeyPair();
  const registry = new Registry({ clock: fixedClock });
  const resources = new NoiseResources({
    identity: keyPair,
    clock: fixedClock,
    registry,
  });
  assert.equal(resources.keyPair, keyPair);
  assert.equal(resources.clock, fixedClock);
  assert.equal(resources.registry, registry);
  resources.close();
  assert.equal(registry.release(registry.mint("test", 1)), true);
  registry.close();
});

Deno.test("NoiseResources.close() zeroes the static-static secrets its identity keeps", () => {
  const resources = new NoiseResources({ clock: fixedClock });
  const cache = resources.identity.staticStatic!;
  const secret =
    cache.get(new Uint8Array(32).fill(9), () => new Uint8Array(32).fill(7))
      .secret;
  assert.equal(cache.size, 1);
  resources.close();
  assert.equal(cache.size, 0);
  assert.deepEqual(secret, new Uint8Array(32));
});
