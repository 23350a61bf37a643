import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCrashScenario } from "../soak/crash.ts";

// The short version of `npm run soak`'s crash scenario (soak/crash.ts): 6,000 leads, one call
// in flight at a time so a run spans several calls, the sandbox at a quarter of Marketo's
// latency. The kill moments come from a seeded generator (a progress mark, then a delay).
describe("reliability: kill -9 the gateway mid-run, run it again", () => {
  it("ten kills during a 6,000-lead post: every lead in Marketo exactly once, delivered in the store, no secret anywhere", async () => {
    const r = await runCrashScenario({
      leads: 6000,
      kills: 10,
      seed: 20261123,
      timeScale: 0.25,
      concurrency: 1,
      maxDelayMs: 300,
      maxMarkShare: 0.8,
      runTimeoutMs: 60_000,
    });
    assert.equal(r.kills.filter((k) => k.killed).length, 10, JSON.stringify(r.kills));
    assert.equal(r.final.code, 0, JSON.stringify(r.final.summary));
    assert.equal(r.final.summary.delivered, 6000);
    assert.equal(r.marketo.missing, 0, "no lead lost");
    assert.equal(r.marketo.duplicated, 0, "no email twice in Marketo");
    assert.equal(r.marketo.leadsSharingEmail, 0);
    assert.equal(r.marketo.leads, 6000);
    assert.deepEqual(r.store.byStatus, { delivered: 6000 });
    assert.equal(r.store.wrongId, 0, "each lead carries the id Marketo holds for its email");
    assert.ok(r.tokensIssued >= 1);
    assert.deepEqual(r.secrets.findings, [], "no secret or token in logs, rows or reports");
  });
});
