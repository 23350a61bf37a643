import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DailyQuotaError } from "../src/errors.ts";
import { Gate, MemoryGateStore } from "../src/gate.ts";

/** A fake clock: sleeping advances it, so a window of 20 s passes instantly. */
function fakeClock(start = Date.parse("2026-07-01T12:00:00Z")) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function gate(
  clock: ReturnType<typeof fakeClock>,
  overrides: Partial<ConstructorParameters<typeof Gate>[0]> = {},
) {
  return new Gate({
    calls: 100,
    windowMs: 20_000,
    windowMarginMs: 0,
    concurrency: 10,
    dailyQuota: Number.POSITIVE_INFINITY,
    minShare: 0.1,
    recoveryPerWindow: 0.25,
    store: new MemoryGateStore(),
    now: clock.now,
    sleep: clock.sleep,
    ...overrides,
  });
}

describe("Gate", () => {
  test("never lets more than `calls` start in any rolling window", async () => {
    const clock = fakeClock();
    const g = gate(clock, { concurrency: 1000 });
    const starts: number[] = [];
    for (let i = 0; i < 350; i++) {
      const ticket = await g.acquire();
      starts.push(clock.now());
      await g.release(ticket);
    }
    for (let i = 100; i < starts.length; i++) {
      assert.ok((starts[i] ?? 0) - (starts[i - 100] ?? 0) >= 20_000, `call ${i} too early`);
    }
    // and does not wait longer than needed: call 100 starts exactly one window after call 0
    assert.equal((starts[100] ?? 0) - (starts[0] ?? 0), 20_000);
  });

  test("the margin widens the window", async () => {
    const clock = fakeClock();
    const g = gate(clock, { calls: 2, windowMarginMs: 300 });
    const t0 = clock.now();
    for (let i = 0; i < 3; i++) await g.release(await g.acquire());
    assert.equal(clock.now() - t0, 20_300);
  });

  test("holds at most `concurrency` in flight and wakes a waiter on release", async () => {
    const clock = fakeClock();
    const g = gate(clock, { concurrency: 2 });
    const a = await g.acquire();
    await g.acquire();
    let third = false;
    const pending = g.acquire().then((t) => {
      third = true;
      return t;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal((await g.snapshot()).inFlight, 2);
    await g.release(a);
    await pending;
    assert.ok(third);
    assert.equal((await g.snapshot()).inFlight, 2);
  });

  test("the snapshot counts only the calls started in the last window", async () => {
    const clock = fakeClock();
    const g = gate(clock);
    for (let i = 0; i < 3; i++) await g.release(await g.acquire());
    assert.equal((await g.snapshot()).inWindow, 3);
    await clock.sleep(10_000);
    await g.release(await g.acquire());
    assert.equal((await g.snapshot()).inWindow, 4);
    // 20 s after the first three, only the fourth is still in the window.
    await clock.sleep(10_000);
    assert.equal((await g.snapshot()).inWindow, 1);
    await clock.sleep(10_000);
    assert.equal((await g.snapshot()).inWindow, 0);
  });

  test("a waiter woken by a release leaves no poll timer running", async () => {
    const g = new Gate({
      calls: 100,
      windowMs: 20_000,
      windowMarginMs: 0,
      concurrency: 1,
      dailyQuota: Number.POSITIVE_INFINITY,
      minShare: 0.1,
      recoveryPerWindow: 0.25,
      store: new MemoryGateStore(),
      now: Date.now,
    });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const first = await g.acquire();
    const second = g.acquire();
    await new Promise((r) => setImmediate(r));
    await g.release(first);
    await g.release(await second);
    assert.equal(timers(), before, "the 250 ms poll was cleared");
  });

  test("606 from other apps halves the share, pauses one window, and the share grows back", async () => {
    const clock = fakeClock();
    const g = gate(clock);
    assert.equal(await g.share(), 1);
    await g.rateLimited("606");
    assert.equal(await g.share(), 0.5);
    assert.deepEqual(await g.limits(), {
      calls: 50,
      windowMs: 20_000,
      concurrency: 5,
      dailyQuota: Infinity,
    });
    const before = clock.now();
    await g.release(await g.acquire());
    assert.equal(clock.now() - before, 20_000, "paused for one window");
    assert.equal(await g.share(), 0.75);
    await clock.sleep(20_000);
    assert.equal(await g.share(), 1);
    await g.rateLimited("615");
    await g.rateLimited("615");
    assert.equal(await g.share(), 0.5, "refusals of one burst lower the share once");
    const stubborn = gate(clock, { recoveryPerWindow: 0 });
    for (let i = 0; i < 10; i++) {
      await clock.sleep(20_000);
      await stubborn.rateLimited("615");
    }
    assert.equal(await stubborn.share(), 0.1, "never below minShare");
  });

  test("the quota refuses at once with the Chicago reset time, and 607 pauses until then", async () => {
    const clock = fakeClock(Date.parse("2026-07-01T12:00:00Z"));
    const g = gate(clock, { dailyQuota: 2 });
    await g.release(await g.acquire());
    await g.release(await g.acquire());
    await assert.rejects(g.acquire(), (e: unknown) => {
      assert.ok(e instanceof DailyQuotaError);
      assert.equal(e.resetsAt.toISOString(), "2026-07-02T05:00:00.000Z");
      return true;
    });
    await g.uncount(clock.now());
    await g.release(await g.acquire());

    const h = gate(clock);
    await h.quotaReached(new Date("2026-07-02T05:00:00Z"));
    await assert.rejects(h.acquire(), DailyQuotaError);
    await clock.sleep(17 * 3_600_000);
    await h.release(await h.acquire());
  });

  test("reconciling takes Marketo's higher count", async () => {
    const clock = fakeClock();
    const g = gate(clock);
    await g.release(await g.acquire());
    await g.reconcile("2026-07-01", 40);
    assert.equal((await g.snapshot()).quotaUsed, 40);
    await g.reconcile("2026-07-01", 10);
    assert.equal((await g.snapshot()).quotaUsed, 40);
  });
});
