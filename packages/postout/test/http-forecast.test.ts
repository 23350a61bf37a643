import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forecastQuota } from "../src/http/forecast.ts";

// 2026-11-23 is in CST: the quota day starts at 06:00 UTC and resets at 06:00 UTC the next day.
const DAY_START = Date.UTC(2026, 10, 23, 6);
const HOUR = 3_600_000;

describe("quota forecast", () => {
  it("carries today's pace forward to the moment the quota runs out", () => {
    // 10,000 calls in 4 h: 2,500/h; 40,000 left take 16 h, before the reset 20 h away.
    const f = forecastQuota(10_000, 50_000, DAY_START + 4 * HOUR);
    assert.equal(f.pacePerHour, 2500);
    assert.equal(f.runsOutAt, new Date(DAY_START + 20 * HOUR).toISOString());
    assert.equal(f.resetsAt, new Date(DAY_START + 24 * HOUR).toISOString());
  });
  it("says null when the quota lasts until the reset, or nothing was called", () => {
    assert.equal(forecastQuota(1_000, 50_000, DAY_START + 12 * HOUR).runsOutAt, null);
    assert.equal(forecastQuota(0, 50_000, DAY_START + HOUR).runsOutAt, null);
  });
  it("says now when the quota is used up", () => {
    const now = DAY_START + 2 * HOUR;
    assert.equal(forecastQuota(50_000, 50_000, now).runsOutAt, new Date(now).toISOString());
  });
});
