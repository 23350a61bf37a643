import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DailyQuotaError } from "../src/errors.ts";
import { MemoryGateStore } from "../src/gate.ts";
import { leads, onSandboxClock, type Rig, restCalls, rigsClosedAfter, SCALE } from "./helpers.ts";

// The window lasts 200 ms at SCALE: a call that reaches the sandbox late (event loop busy on a
// loaded 2-core machine) must not make the next window's first call look early. Half a window.
const LOADED_MARGIN_MS = 100;

describe("the call gate against the sandbox", () => {
  const open = rigsClosedAfter();
  const rateCodes = (r: Rig) => restCalls(r.sb).filter((c) => c.code === "606" || c.code === "615");

  test("alone, the client saturates the instance without one 606 or 615", async () => {
    const r = await open();
    const client = r.make({ maxBatchRecords: 10, gate: { windowMarginMs: LOADED_MARGIN_MS } });
    const result = await client.syncLeads(leads(3_000, "sat")); // 300 calls = 3 windows
    assert.equal(result.counts.created, 3_000);
    assert.equal(restCalls(r.sb).length, 300);
    assert.deepEqual(rateCodes(r), []);
    const state = r.sb.state() as { calls: { highestInFlight: number } };
    assert.ok(state.calls.highestInFlight <= 10);
  });

  test("two clients sharing one GateStore share one budget: still no 606 or 615", async () => {
    const r = await open();
    const store = new MemoryGateStore();
    const a = r.make({ maxBatchRecords: 10, gate: { store, windowMarginMs: LOADED_MARGIN_MS } });
    const b = r.make({ maxBatchRecords: 10, gate: { store, windowMarginMs: LOADED_MARGIN_MS } });
    const [x, y] = await Promise.all([
      a.syncLeads(leads(1_500, "ga")),
      b.syncLeads(leads(1_500, "gb")),
    ]);
    assert.equal(x.counts.created + y.counts.created, 3_000);
    assert.deepEqual(rateCodes(r), []);
    // Without the shared store the same two clients overrun the instance.
    const c = r.make({ maxBatchRecords: 10 });
    const d = r.make({ maxBatchRecords: 10 });
    await Promise.all([c.syncLeads(leads(1_500, "gc")), d.syncLeads(leads(1_500, "gd"))]);
    assert.ok(rateCodes(r).length > 0, "the control run does hit the limits");
  });

  test("606 caused by another app: slow down, lower the share, recover it", async () => {
    const r = await open();
    // Client and sandbox share the sandbox's clock, which moves only while the gate waits: the
    // other app's calls fill the window our first calls arrive in, however slow the machine,
    // and the share's recovery is read at exact moments.
    const client = r.make({
      maxBatchRecords: 10,
      gate: { recoveryPerWindow: 0.02 },
      ...onSandboxClock(r),
    });
    r.sb.foreignTraffic({ calls: 100 }); // another app just used the whole window
    const result = await client.syncLeads(leads(200, "f"));
    assert.equal(result.counts.created, 200);
    // Only the first burst (the calls already in flight) is refused; then the gate waits.
    const refused = rateCodes(r);
    assert.ok(refused.length >= 1 && refused.length <= 10, `${refused.length} refusals`);
    const throttled = r.events.filter((e) => e.type === "throttled");
    assert.equal(throttled.length, refused.length);
    // A call granted after the first burst finds at least those 10 of ours in the gate's window.
    for (const e of throttled) assert.ok(e.inWindow < 10, "no 606 after the first burst");
    const lowered = await client.gateState();
    assert.equal(lowered.share.share, 0.5, "halved once, not once per refusal");
    const window = 20_000 * SCALE;
    r.sb.clock.set(lowered.share.since + 3 * window);
    assert.equal((await client.gateState()).currentShare, 0.5 + 3 * 0.02, "the share grows back");
    r.sb.clock.set(lowered.share.since + 25 * window);
    assert.equal((await client.gateState()).currentShare, 1, "…all the way");
  });

  test("a steady stream from another app: the share settles low enough to stop the 606s", async () => {
    const r = await open();
    // The other app's stream and both windows run on the sandbox's clock, which moves only while
    // the gate waits: each window holds the stream's 60 calls and as many of ours as the gate
    // lets through, however fast or slow the machine makes them.
    const client = r.make({ maxBatchRecords: 5, ...onSandboxClock(r) });
    r.sb.foreignTraffic({ perSecond: 3 }); // 60 of every 100 calls in the window
    const result = await client.syncLeads(leads(1_000, "s")); // 200 calls
    assert.equal(result.counts.created, 1_000);
    // AIMD: each window the share creeps up until the instance fills, then halves once. The
    // refusals are the few calls in flight at those moments, a small part of the traffic.
    const refused = rateCodes(r).length;
    assert.ok(refused >= 1 && refused <= 20, `${refused} refusals of ${restCalls(r.sb).length}`);
    assert.ok((await client.gateState()).currentShare < 1);
  });

  test("615 caused by another app holding every slot: back off and go through", async () => {
    const r = await open();
    // The other app holds every slot until our first call has been refused, then lets go.
    const holdMs = 3_000; // 30 ms at scale
    const client = r.make(
      onSandboxClock(r, (e) => {
        if (e.type === "throttled") r.sb.clock.advance(holdMs * SCALE);
      }),
    );
    r.sb.foreignTraffic({ holdSlots: 10, holdMs });
    const result = await client.syncLeads(leads(5, "c"));
    assert.equal(result.counts.created, 5);
    const codes = restCalls(r.sb).map((c) => c.code);
    assert.equal(codes[0], "615");
    assert.equal(codes.at(-1), "200");
    assert.ok((await client.gateState()).currentShare < 1);
  });

  test("607 with a moved clock: the error says when, calls stop until then, then resume", async () => {
    // 01:00 CST on the day daylight saving time starts: the next midnight is CDT, 05:00 UTC.
    const r = await open({ clock: new Date("2026-03-08T07:00:00Z"), dailyQuota: 10 });
    const client = r.make({ now: () => r.sb.clock.now() });
    r.sb.foreignTraffic({ quota: 10 });
    const error = await client.getListByName("Newsletter Subscribers").catch((e: unknown) => e);
    assert.ok(error instanceof DailyQuotaError);
    assert.equal(error.code, "607");
    assert.equal(error.resetsAt.toISOString(), "2026-03-09T05:00:00.000Z");
    assert.equal(error.recovery, "wait-for-quota-reset");
    const before = restCalls(r.sb).length;
    const again = await client.getListByName("Newsletter Subscribers").catch((e: unknown) => e);
    assert.ok(again instanceof DailyQuotaError);
    assert.equal(again.resetsAt.toISOString(), "2026-03-09T05:00:00.000Z");
    const writes = await client.syncLeads(leads(3, "q"));
    assert.deepEqual(
      writes.results.map((x) => x.status),
      ["failed", "failed", "failed"],
    );
    assert.ok(writes.results[0]?.error instanceof DailyQuotaError);
    assert.equal(restCalls(r.sb).length, before, "no call reached Marketo while the quota is out");

    r.sb.clock.set(new Date("2026-03-09T05:00:01Z"));
    const list = await client.getListByName("Newsletter Subscribers");
    assert.equal(list?.name, "Newsletter Subscribers");
  });

  test("usage statistics reconcile the quota count with Marketo's", async () => {
    const r = await open();
    await r.client.syncLeads(leads(5, "u"));
    await r.client.getListByName("Newsletter Subscribers");
    r.sb.foreignTraffic({ quota: 40 });
    const report = await r.client.usage();
    assert.equal(report.counted, 4, "sync, list, usage and errors calls counted by the client");
    assert.ok(report.usage.total >= 42, `Marketo counted ${report.usage.total}`);
    assert.equal(report.reconciled, report.usage.total);
    assert.equal((await r.client.gateState()).quotaUsed, report.usage.total);
    assert.ok(Array.isArray(report.errors.errors));
  });
});
