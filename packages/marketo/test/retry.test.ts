import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lookupCode } from "../src/codes.ts";
import { DEFAULT_RETRY } from "../src/options.ts";
import { delayMs, type Outcome, shouldRetry } from "../src/retry.ts";

function outcome(code: string, extra: Partial<Outcome> = {}): Outcome {
  const recovery =
    lookupCode(code)?.recovery ??
    (["network", "timeout", "invalid_response", "response_too_large", "503", "504"].includes(code)
      ? "retry-with-backoff"
      : "none");
  return { code, recovery, elapsedMs: 0, ...extra };
}

describe("shouldRetry", () => {
  const table: [code: string, attempt: number, expected: boolean, extra?: Partial<Outcome>][] = [
    ["502", 1, true],
    ["500", 1, true],
    ["503", 1, true],
    ["504", 1, true],
    ["604", 1, true],
    ["608", 1, true],
    ["611", 1, true],
    ["713", 1, true],
    ["719", 1, true],
    ["network", 1, true],
    ["timeout", 1, true],
    ["invalid_response", 1, true],
    ["response_too_large", 1, true],
    ["606", 1, true],
    ["615", 1, true],
    ["601", 1, true],
    ["602", 1, true],
    ["601", 2, false, { reauthenticated: true }],
    ["602", 1, false, { reauthenticated: true }],
    ["401", 1, false],
    ["603", 1, false],
    ["605", 1, false],
    ["607", 1, false],
    ["609", 1, false],
    ["610", 1, false],
    ["612", 1, false],
    ["701", 1, false],
    ["1006", 1, false],
    ["413", 1, false],
    ["414", 1, false],
    // A redirect is a wrong base URL: resending to the same address cannot help.
    ["301", 1, false],
    ["302", 1, false],
    ["307", 1, false],
    ["308", 1, false],
    ["502", DEFAULT_RETRY.maxAttempts, false],
    ["502", DEFAULT_RETRY.maxAttempts - 1, true],
    ["502", 1, false, { elapsedMs: DEFAULT_RETRY.maxTotalMs }],
    ["606", 1, false, { elapsedMs: DEFAULT_RETRY.maxTotalMs + 1 }],
  ];
  for (const [code, attempt, expected, extra] of table) {
    test(`${code} after attempt ${attempt}${extra ? ` ${JSON.stringify(extra)}` : ""} → ${expected ? "retry" : "stop"}`, () => {
      assert.equal(shouldRetry(outcome(code, extra), attempt), expected);
    });
  }
});

describe("delayMs", () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };

  test("exponential ceiling with full jitter: random 1 reaches the ceiling, random 0 is 0", () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((a) =>
      delayMs(a, outcome("502"), policy, () => 0.999999),
    );
    assert.deepEqual(ceilings, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(
      delayMs(3, outcome("502"), policy, () => 0),
      0,
    );
  });

  test("jitter spreads delays uniformly under the ceiling", () => {
    const values = [0.1, 0.5, 0.9].map((r) => delayMs(3, outcome("713"), policy, () => r));
    assert.deepEqual(values, [40, 200, 360]);
  });

  test("606 waits out the rolling window, whatever the attempt", () => {
    const o = outcome("606", { windowMs: 20_000 });
    assert.equal(
      delayMs(1, o, policy, () => 0),
      20_000,
    );
    assert.equal(
      delayMs(5, o, policy, () => 0.5),
      20_050,
    );
  });

  test("607 waits until the quota resets at midnight America/Chicago", () => {
    const now = Date.parse("2026-07-01T12:00:00Z");
    const resetsAt = new Date("2026-07-02T05:00:00Z");
    assert.equal(delayMs(1, outcome("607", { resetsAt, now }), policy), 17 * 3_600_000);
  });

  test("a new token is fetched at once", () => {
    assert.equal(
      delayMs(1, outcome("602"), policy, () => 0.9),
      0,
    );
  });
});
