import assert from "node:assert/strict";
import { RttEstimator } from "../../../netlayers/udp/rtt.ts";

const options = { initialRto: 200, minRto: 10, maxRto: 4000 };

Deno.test("RttEstimator follows RFC 6298 for the first and later samples", () => {
  const rtt = new RttEstimator(options);
  assert.equal(rtt.rto, 200);
  rtt.sample(100);
  assert.equal(rtt.srtt, 100);
  assert.equal(rtt.rttvar, 50);
  assert.equal(rtt.rto, 100 + 4 * 50);
  rtt.sample(60);
  assert.equal(rtt.rttvar, 0.75 * 50 + 0.25 * 40);
  assert.equal(rtt.srtt, 0.875 * 100 + 0.125 * 60);
  assert.equal(rtt.rto, rtt.srtt + 4 * rtt.rttvar);
});

Deno.test("RttEstimator doubles the RTO on timeout up to the maximum", () => {
  const rtt = new RttEstimator(options);
  rtt.sample(1000);
  for (let i = 0; i < 10; i++) rtt.backOff();
  assert.equal(rtt.rto, 4000);
  rtt.sample(1000);
  assert.equal(rtt.rto, Math.min(4000, rtt.srtt + 4 * rtt.rttvar));
});

Deno.test("RttEstimator subtracts the ack delay and adds the peer's maxAckDelay", () => {
  const rtt = new RttEstimator({ ...options, maxAckDelay: 5 });
  rtt.sample(30, 10);
  assert.equal(rtt.srtt, 20);
  assert.equal(rtt.rto, 20 + 40 + 5);
  rtt.sample(3, 10);
  assert.ok(rtt.srtt < 20, "a delay larger than the sample is ignored");
  const floor = new RttEstimator(options);
  floor.sample(0.1);
  assert.equal(floor.rto, 10);
});
