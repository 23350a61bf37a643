import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextQuotaReset, quotaDay } from "../src/index.ts";

describe("the quota day resets at midnight America/Chicago (§12)", () => {
  const cases = [
    { at: "2026-11-23T12:00:00Z", reset: "2026-11-24T06:00:00.000Z", note: "CST: UTC-6" },
    { at: "2026-07-01T12:00:00Z", reset: "2026-07-02T05:00:00.000Z", note: "CDT: UTC-5" },
    {
      at: "2026-03-07T12:00:00Z",
      reset: "2026-03-08T06:00:00.000Z",
      note: "eve of spring forward",
    },
    {
      at: "2026-03-08T12:00:00Z",
      reset: "2026-03-09T05:00:00.000Z",
      note: "day of spring forward",
    },
    { at: "2026-10-31T12:00:00Z", reset: "2026-11-01T05:00:00.000Z", note: "eve of fall back" },
    { at: "2026-11-01T12:00:00Z", reset: "2026-11-02T06:00:00.000Z", note: "day of fall back" },
    { at: "2026-11-24T05:59:59Z", reset: "2026-11-24T06:00:00.000Z", note: "one second before" },
    { at: "2026-11-24T06:00:00Z", reset: "2026-11-25T06:00:00.000Z", note: "at midnight itself" },
  ];
  for (const c of cases) {
    it(`${c.at} (${c.note}) → ${c.reset}`, () => {
      assert.equal(nextQuotaReset(new Date(c.at)).toISOString(), c.reset);
    });
  }

  it("counts calls into the Chicago day, not the UTC day", () => {
    assert.equal(quotaDay(new Date("2026-11-24T05:59:59Z")), "2026-11-23");
    assert.equal(quotaDay(new Date("2026-11-24T06:00:00Z")), "2026-11-24");
    assert.equal(quotaDay(new Date("2026-07-02T04:59:59Z")), "2026-07-01");
    assert.equal(quotaDay(new Date("2026-07-02T05:00:00Z")), "2026-07-02");
  });
});
