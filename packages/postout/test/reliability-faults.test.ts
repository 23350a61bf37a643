import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runFaultsScenario } from "../soak/faults.ts";

// The short version of `npm run soak`'s faults scenario (soak/faults.ts): 5 simulated minutes
// at a time scale of 0.05 (15 s), everything Marketo does wrong at once.
describe("reliability: 5 simulated minutes of Marketo faults", () => {
  it("delivers 100 % with 10 % transient codes, tokens revoked every 30 s, foreign 606/615, resets and answers past the timeout; every write call Marketo received is in the log; no secret anywhere", async () => {
    const r = await runFaultsScenario({
      simulatedMinutes: 5,
      timeScale: 0.05,
      seed: 20261123,
      leads: 3000,
      drainTimeoutMs: 60_000,
    });
    const figures = JSON.stringify({ ...r, secrets: r.secrets.findings });
    assert.equal(r.delivered, 3000, figures);
    // The faults really happened.
    assert.ok(r.injected.transient > 0, figures);
    assert.ok(r.injected.resets >= 3, figures);
    assert.ok(r.injected.slow >= 1, figures);
    assert.ok(r.injected.revocations >= 9, figures);
    assert.ok((r.answers["601"] ?? 0) > 0, figures);
    assert.ok((r.answers["606"] ?? 0) > 0, figures);
    assert.ok((r.answers["615"] ?? 0) > 0, figures);
    // Every write call Marketo received is in the log: by requestId where the client read
    // Marketo's envelope (successes, and the 6xx and token refusals the client retried), by code
    // where it could not (resets, HTML 5xx, answers past the timeout). No row names a call
    // Marketo did not answer.
    assert.ok(r.writes.answeredWithEnvelope > r.writes.answeredInTime, figures);
    assert.equal(r.writes.missingFromLog, 0, figures);
    assert.deepEqual(r.writes.withoutEnvelopeLogged, r.writes.withoutEnvelope, figures);
    assert.ok((r.writes.withoutEnvelope.network ?? 0) >= 1, figures);
    assert.ok((r.writes.withoutEnvelope.timeout ?? 0) >= 1, figures);
    assert.equal(r.writes.unknownToMarketo, 0, figures);
    assert.equal(r.apiErrors, 0, figures);
    assert.ok(r.tokensIssued >= 2, figures);
    assert.deepEqual(
      r.secrets.findings,
      [],
      "no secret or token in logs, rows, reports or API answers",
    );
  });
});
