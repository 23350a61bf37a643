import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RetriedCall } from "../src/batch-write.ts";
import { leads, restCalls, rigsClosedAfter } from "./helpers.ts";

/**
 * `onRetriedCall` reports each call whose records were sent again; the results come from each
 * record's last call. Together they account for every write call the sandbox received.
 */
describe("onRetriedCall: every call of a write is accounted for", () => {
  const open = rigsClosedAfter();
  const writes = (sb: Parameters<typeof restCalls>[0]) =>
    restCalls(sb).filter((c) => c.method === "POST" && c.path === "/rest/v1/leads.json");

  test("a 606 and a revoked token: two retried calls carrying every record, then the result", async () => {
    const r = await open();
    r.sb.faults.add({ code: "606", endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    r.sb.faults.add({ code: "601", endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    const retried: RetriedCall[] = [];
    const result = await r.client.syncLeads(leads(3, "rc"), {
      onRetriedCall: (call) => retried.push(call),
    });
    assert.equal(result.counts.created, 3);
    assert.deepEqual(
      retried.map((c) => [c.then, c.error.code, c.attempt, [...c.records]]),
      [
        ["retry", "606", 1, [0, 1, 2]],
        ["retry", "601", 2, [0, 1, 2]],
      ],
    );
    assert.ok(retried.every((c) => c.endpoint === "syncLeads"));
    assert.equal(writes(r.sb).length, retried.length + 1, "the retried calls and the last one");
  });

  test("604 every time: the splits and the retries are reported, the final failure is the result", async () => {
    const r = await open();
    r.sb.faults.add({ code: "604", endpoint: "/rest/v1/leads.json", method: "POST" });
    const retried: RetriedCall[] = [];
    const result = await r.client.syncLeads(leads(100, "bis"), {
      onRetriedCall: (call) => retried.push(call),
    });
    assert.equal(result.counts.failed, 100);
    // 100 → 2 × 50 → 4 × 25 (3 split calls), then each 25 is tried 6 times: 5 retried, 1 final.
    assert.deepEqual(
      retried.filter((c) => c.then === "split").map((c) => c.records.length),
      [100, 50, 50],
    );
    assert.equal(retried.filter((c) => c.then === "retry").length, 4 * 5);
    assert.equal(writes(r.sb).length, retried.length + 4);
    // Each record rode on 7 calls: 2 split, 5 retried (and its final one is its result).
    for (let i = 0; i < 100; i++) {
      assert.equal(retried.filter((c) => c.records.includes(i)).length, 7, `record ${i}`);
    }
  });

  test("a 413: the whole batch's call is reported as split", async () => {
    const r = await open({ customFields: [{ name: "notes", dataType: "text" }] });
    const client = r.make({ maxBodyBytes: 2_000_000 });
    const big = leads(150, "big").map((l) => ({ ...l, notes: "n".repeat(10_000) }));
    const retried: RetriedCall[] = [];
    const result = await client.syncLeads(big, { onRetriedCall: (call) => retried.push(call) });
    assert.equal(result.counts.created, 150);
    assert.deepEqual(
      retried.map((c) => [c.then, c.error.code, c.records.length]),
      [["split", "413", 150]],
    );
  });

  test("a createOnly call that timed out is reported as verified, then the resend is the result", async () => {
    const r = await open();
    const client = r.make({ timeouts: { syncLeads: 300 } });
    r.sb.faults.add({
      code: "slow",
      endpoint: "/rest/v1/leads.json",
      method: "POST",
      count: 1,
      delayMs: 800,
    });
    const retried: RetriedCall[] = [];
    const result = await client.syncLeads(leads(3, "ver"), {
      action: "createOnly",
      onRetriedCall: (call) => retried.push(call),
    });
    assert.equal(result.counts.created, 3);
    assert.deepEqual(
      retried.map((c) => [c.then, c.error.code, [...c.records]]),
      [["verify", "timeout", [0, 1, 2]]],
    );
    assert.ok((retried[0]?.durationMs ?? 0) >= 250, "the timeout's duration");
    await new Promise((resolve) => setTimeout(resolve, 700)); // let the slow call finish
  });

  test("after a lost createOnly answer, the records the lookup did not prove created are reported as sent again", async () => {
    const r = await open();
    const client = r.make({ timeouts: { syncLeads: 300 } });
    const input = leads(3, "part");
    // Lead 0 is created 10 s before the lost call (beyond the 5 s clock skew allowed) (the sandbox's clock set back meanwhile).
    r.sb.clock.set(new Date(Date.now() - 10_000));
    await client.syncLeads([input[0] as (typeof input)[number]]);
    r.sb.clock.set(new Date());
    r.sb.faults.add({
      code: "slow",
      endpoint: "/rest/v1/leads.json",
      method: "POST",
      count: 1,
      delayMs: 800,
    });
    const retried: RetriedCall[] = [];
    const result = await client.syncLeads(input, {
      action: "createOnly",
      onRetriedCall: (call) => retried.push(call),
    });
    // Lead 0 existed before the call: not the lost call's lead, so it is resent and refused
    // (1005) as it would have been; 1 and 2 are not in Marketo yet, so they are resent too.
    assert.deepEqual(
      result.results.map((x) => x.status),
      ["skipped", "created", "created"],
    );
    assert.deepEqual(
      retried.map((c) => [c.then, [...c.records]]),
      [["verify", [0, 1, 2]]],
    );
    await new Promise((resolve) => setTimeout(resolve, 700)); // let the slow call finish
  });

  test("a failure the client gives up on at once is only the result: nothing reported", async () => {
    const r = await open();
    r.sb.faults.add({ code: "609", endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    const retried: RetriedCall[] = [];
    const result = await r.client.syncLeads(leads(2, "fin"), {
      onRetriedCall: (call) => retried.push(call),
    });
    assert.equal(result.counts.failed, 2);
    assert.equal(result.results[0]?.reasons[0]?.code, "609");
    assert.deepEqual(retried, []);
  });

  test("list adds take the hook too; a hook that throws changes nothing", async () => {
    const r = await open();
    const created = await r.client.syncLeads(leads(2, "hook"));
    const ids = created.results.map((x) => x.id as number);
    r.sb.faults.add({ code: "611", endpoint: "/rest/v1/lists/", method: "POST", count: 1 });
    const retried: RetriedCall[] = [];
    // List 1001 is one of the sandbox's seeded static lists.
    const added = await r.client.addToList(1001, ids, {
      onRetriedCall: (call) => {
        retried.push(call);
        throw new Error("a broken hook");
      },
    });
    assert.deepEqual(
      added.results.map((x) => x.status),
      ["created", "created"],
    );
    assert.deepEqual(
      retried.map((c) => [c.endpoint, c.error.code, [...c.records]]),
      [["addToList", "611", [0, 1]]],
    );
    assert.ok(r.logs.some((l) => l.includes("onRetriedCall hook threw")));
  });
});
