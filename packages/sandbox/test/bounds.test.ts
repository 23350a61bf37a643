import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, errorCode, sandbox, token } from "./helpers.ts";

const path = "/rest/v1/leads/describe.json";

// Foreign traffic, faults and tokens come from test plans that may be large or wrong; none
// of them may make the sandbox hang or grow without bound.
describe("bounded time and memory", () => {
  test("§12 a trillion foreign calls fill the window at once, without a call per entry", {
    timeout: 30_000,
  }, async () => {
    const sb = await sandbox({ dailyQuota: false });
    const t = await token(sb);
    const heap = process.memoryUsage().heapUsed;
    const started = performance.now();
    sb.foreignTraffic({ calls: 1e12 });
    assert.ok(performance.now() - started < 5000, "no work per call");
    assert.ok(process.memoryUsage().heapUsed - heap < 50e6, "no entry per call");
    assert.equal(errorCode((await call(sb, t, "GET", path)).body), "606");
    sb.clock.advance(20_000 * 0.01 + 1);
    assert.equal((await call(sb, t, "GET", path)).body.success, true);
  });

  test("§12 a very fast foreign stream over a long clock jump stays cheap", {
    timeout: 30_000,
  }, async () => {
    const sb = await sandbox({ dailyQuota: false, rateLimit: { calls: 100, windowMs: 3_600_000 } });
    sb.foreignTraffic({ perSecond: 1e6 });
    const started = performance.now();
    sb.clock.advance(24 * 3_600_000);
    const state = sb.state() as { rateWindow: { calls: number } };
    assert.ok(performance.now() - started < 5000, "one tick, bounded work");
    assert.ok(state.rateWindow.calls > 100);
  });

  test("foreign traffic refuses non-finite rates", async () => {
    const sb = await sandbox();
    assert.throws(
      () => sb.foreignTraffic({ perSecond: Number.POSITIVE_INFINITY }),
      /perSecond must be a finite number/,
    );
  });

  test("the fault list has a ceiling", async () => {
    const sb = await sandbox();
    for (let i = 0; i < 1000; i++) sb.faults.add({ code: "604", endpoint: "/nowhere" });
    assert.throws(() => sb.faults.add({ code: "604" }), /at most 1000 faults/);
    sb.faults.clear();
    sb.faults.add({ code: "604", count: 1 });
  });

  test("the call log keeps callLogSize entries", async () => {
    const sb = await sandbox({ callLogSize: 5, rateLimit: false });
    const t = await token(sb);
    for (let i = 0; i < 12; i++) await call(sb, t, "GET", path);
    assert.equal(sb.calls().length, 5);
  });
});
