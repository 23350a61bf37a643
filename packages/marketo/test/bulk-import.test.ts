import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Rig, restCalls, rig } from "./helpers.ts";

function rows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    email: `bulk${i}@example.com`,
    workEmail: i === 3 ? "not-an-email" : `work${i}@example.com`,
    firstName: `Row, "${i}"`, // commas and quotes survive the CSV round trip
    leadScore: i === 5 || i === 11 ? "TEXT_IN_INTEGER" : i,
  }));
}

describe("bulk import against the sandbox", () => {
  let r: Rig;
  before(async () => {
    // 50 s before a job starts importing (0.5 s at scale): its status is read well before that.
    r = await rig({
      bulkPace: { startupMs: 50_000 },
      customFields: [
        { name: "postoutRowId", dataType: "string" },
        { name: "workEmail", dataType: "email" },
      ],
    });
  });
  after(() => r.close());

  test("job ids come back as soon as the jobs exist; failures and warnings map back to input rows", async () => {
    const created: number[] = [];
    const input = rows(40);
    // Small files force several jobs, each created (and reported) before the next upload.
    const client = r.make({ maxImportBytes: 3_000 });
    const job = await client.importLeads(input, { onCreated: (id) => void created.push(id) });
    assert.ok(job.batchIds.length >= 2, `${job.batchIds.length} files`);
    assert.deepEqual(created, job.batchIds);
    const first = await job.status();
    assert.ok(
      first.every((s) => s.status === "Queued" || s.status === "Importing"),
      "returned before completion",
    );

    const report = await job.wait({ pollIntervalMs: 20, maxWaitMs: 10_000 });
    assert.equal(report.rows.length, 40);
    assert.deepEqual(
      report.rows.map((x) => x.index),
      [...Array(40).keys()],
    );
    const byStatus = (s: string) => report.rows.filter((x) => x.status === s).map((x) => x.index);
    assert.deepEqual(byStatus("failed"), [5, 11]);
    assert.deepEqual(byStatus("warning"), [3]);
    assert.match(report.rows[5]?.reason ?? "", /Invalid data type/);
    assert.equal(report.rows[3]?.reason, "Invalid email address");
    assert.ok(report.batches.every((b) => b.status === "Complete"));
    assert.ok(restCalls(r.sb).some((c) => c.path.endsWith("/failures.json")));
  });

  test("without a row id column, rows are matched by their content", async () => {
    const input = rows(12).map((row) => ({ ...row, email: row.email.replace("bulk", "content") }));
    const job = await r.client.importLeads(input, { rowIdColumn: false });
    const report = await job.wait({ pollIntervalMs: 20, maxWaitMs: 10_000 });
    assert.deepEqual(
      report.rows.filter((x) => x.status === "failed").map((x) => x.index),
      [5, 11],
    );
  });

  test("a job can be resumed from stored batch ids", async () => {
    const input = rows(6).map((row) => ({ ...row, email: row.email.replace("bulk", "resume") }));
    const job = await r.client.importLeads(input);
    const resumed = r.client.resumeImport(job.batchIds, input);
    const report = await resumed.wait({ pollIntervalMs: 20, maxWaitMs: 10_000 });
    assert.deepEqual(
      report.rows.map((x) => x.status),
      ["imported", "imported", "imported", "warning", "imported", "failed"],
    );
  });
});

describe("bulk import resumed from several stored jobs", () => {
  test("without ranges, each row takes the most telling answer of any job", async () => {
    const r = await rig({
      customFields: [
        { name: "postoutRowId", dataType: "string" },
        { name: "workEmail", dataType: "email" },
      ],
    });
    try {
      const input = rows(30).map((row) => ({ ...row, email: row.email.replace("bulk", "multi") }));
      const job = await r.make({ maxImportBytes: 3_000 }).importLeads(input);
      assert.ok(job.batchIds.length >= 2);
      const report = await r.client
        .resumeImport(job.batchIds, input)
        .wait({ pollIntervalMs: 20, maxWaitMs: 10_000 });
      assert.deepEqual(
        report.rows.filter((x) => x.status === "failed").map((x) => x.index),
        [5, 11],
      );
      assert.deepEqual(
        report.rows.filter((x) => x.status === "warning").map((x) => x.index),
        [3],
      );
      assert.equal(report.rows.length, 30);
    } finally {
      await r.close();
    }
  });
});

describe("waiting for a large import", () => {
  test("120,000 rows come back whole; a finished job is not looked at again; the big one is looked at near its projected end", async () => {
    // At the rig's time scale 120,000 rows take about 1.2 s to import; a look every 20 ms
    // for the whole import (the old wait) made ~60 status calls for the big job alone.
    const r = await rig({
      bulkPace: { startupMs: 2_000, perRowMs: 1 },
      customFields: [{ name: "postoutRowId", dataType: "string" }],
    });
    try {
      const big = Array.from({ length: 120_000 }, (_, i) => ({ email: `big${i}@example.com` }));
      const small = [{ email: "small@example.com" }];
      const bigJob = await r.client.importLeads(big);
      const smallJob = await r.client.importLeads(small);
      const both = r.client.resumeImport(
        [...bigJob.files, ...smallJob.files.map((f) => ({ ...f, start: 120_000, end: 120_001 }))],
        [...big, ...small],
      );
      const report = await both.wait({
        pollIntervalMs: 20,
        maxPollIntervalMs: 2_000,
        maxWaitMs: 60_000,
      });
      assert.equal(report.rows.length, 120_001);
      assert.ok(report.rows.every((row) => row.status === "imported"));
      const looks = (id: number | undefined) =>
        restCalls(r.sb).filter((c) => c.path === `/bulk/v1/leads/batch/${id}.json`).length;
      const bigLooks = looks(bigJob.batchIds[0]);
      const smallLooks = looks(smallJob.batchIds[0]);
      assert.ok(smallLooks <= 3, `the small job was looked at ${smallLooks} times`);
      assert.ok(bigLooks <= 15, `the big job was looked at ${bigLooks} times`);
    } finally {
      await r.close();
    }
  });
});
