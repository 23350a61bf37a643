import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { INSTANCE_LIMITS, throttleCause } from "../src/throttle-cause.ts";

describe("throttleCause: whose calls filled the instance", () => {
  const table = [
    // code, own calls in the window, own calls in flight (the refused call not counted) → cause
    ["606", 100, 0, "self"], // this client alone made Marketo's 100 calls in 20 s
    ["606", 250, 3, "self"],
    ["606", 99, 10, "foreign"], // 99 of ours cannot fill the window: other apps called too
    ["606", 0, 0, "foreign"],
    ["615", 0, 10, "self"], // ten of ours were already in flight
    ["615", 500, 9, "foreign"], // the window does not matter to 615
    ["615", 0, 0, "foreign"],
  ] as const;
  for (const [code, inWindow, inFlight, cause] of table) {
    test(`${code} with ${inWindow} in the window and ${inFlight} in flight → ${cause}`, () => {
      assert.equal(throttleCause(code, { inWindow, inFlight }), cause);
    });
  }

  test("the limits are Marketo's documented ones", () => {
    assert.deepEqual(INSTANCE_LIMITS, { callsPerWindow: 100, concurrency: 10 });
  });
});
