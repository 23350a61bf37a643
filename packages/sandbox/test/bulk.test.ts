import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Sandbox } from "../src/index.ts";
import { call, errorCode, sandbox, token } from "./helpers.ts";

async function upload(
  sb: Sandbox,
  t: string,
  csv: string,
  query = "format=csv",
): Promise<{
  status: number;
  body: Record<string, unknown> & {
    result?: Array<Record<string, unknown>>;
    errors?: Array<{ code: string }>;
  };
}> {
  const form = new FormData();
  form.append("file", new Blob([csv], { type: "text/csv" }), "leads.csv");
  const res = await fetch(`${sb.url}/bulk/v1/leads.json?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${t}` },
    body: form,
  });
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as never) : {} };
}

describe("§11 bulk import leads", () => {
  test("§11.1–11.3 queued, importing, complete; failures and warnings files", async () => {
    const sb = await sandbox({
      customFields: [{ name: "crmRef", dataType: "string" }],
      bulkPace: { startupMs: 5000, perRowMs: 5 },
    });
    const t = await token(sb);
    const csv =
      "crmRef,email,leadScore\nR1,ok@x.com,5\nR2,INVALID_EMAIL,0\nR3,x@x.com,TEXT\n,no@x.com,1\n";
    const created = await upload(sb, t, csv, "format=csv&lookupField=crmRef&listId=1001");
    assert.deepEqual(created.body.result?.[0], {
      batchId: 1001,
      importId: "1001",
      status: "Queued",
    });
    const poll = async () =>
      (await call(sb, t, "GET", "/bulk/v1/leads/batch/1001.json")).body.result?.[0] as Record<
        string,
        unknown
      >;
    assert.equal((await poll()).status, "Importing");
    sb.clock.advance(10_000);
    const done = await poll();
    assert.equal(done.status, "Complete");
    assert.equal(done.numOfLeadsProcessed, 2);
    assert.equal(done.numOfRowsFailed, 2);
    assert.equal(done.numOfRowsWithWarning, 1);
    assert.equal(
      done.message,
      "Import completed with errors, 2 records imported (2 members), 2 failed",
    );
    const failures = await fetch(`${sb.url}/bulk/v1/leads/batch/1001/failures.json`, {
      headers: { authorization: `Bearer ${t}` },
    });
    assert.match(failures.headers.get("content-type") ?? "", /text\/csv/);
    assert.equal(
      await failures.text(),
      "crmRef,email,leadScore,Import Failure Reason\nR3,x@x.com,TEXT,Invalid data type in field Lead Score\n,no@x.com,1,missing.dedupe.fields\n",
    );
    const warnings = await fetch(`${sb.url}/bulk/v1/leads/batch/1001/warnings.json`, {
      headers: { authorization: `Bearer ${t}` },
    });
    assert.equal(
      await warnings.text(),
      "crmRef,email,leadScore,Import Warning Reason\nR2,INVALID_EMAIL,0,Invalid email address\n",
    );
    const state = sb.state() as { leads: number; lists: Array<{ members: number }> };
    assert.equal(state.leads, 2);
    assert.equal(state.lists[0]?.members, 2);
  });

  test("§11.4 two process at once, FIFO; the 11th waiting import → 1016; same list → 1019", async () => {
    const sb = await sandbox({ bulkPace: { startupMs: 100_000, perRowMs: 1 } });
    const t = await token(sb);
    for (let i = 0; i < 10; i++)
      assert.equal((await upload(sb, t, `email\nl${i}@x.com\n`)).body.success, true);
    const statuses = (sb.state() as { bulkImports: Array<{ status: string }> }).bulkImports.map(
      (j) => j.status,
    );
    assert.deepEqual(statuses.slice(0, 3), ["Importing", "Importing", "Queued"]);
    const eleventh = await upload(sb, t, "email\nz@x.com\n");
    assert.equal(eleventh.body.errors?.[0]?.code, "1016");
    sb.clock.advance(1_001_000 * 0.01 * 5);
    const after = (sb.state() as { bulkImports: Array<{ status: string }> }).bulkImports.map(
      (j) => j.status,
    );
    assert.ok(
      after.slice(0, 2).every((s) => s === "Complete"),
      after.join(),
    );
    const other = await sandbox({ bulkPace: { startupMs: 100_000, perRowMs: 1 } });
    const t2 = await token(other);
    await upload(other, t2, "email\na@x.com\n", "format=csv&listId=1001");
    assert.equal(
      (await upload(other, t2, "email\nb@x.com\n", "format=csv&listId=1001")).body.errors?.[0]
        ?.code,
      "1019",
    );
  });

  test("§11.1 tsv format, unknown column fails the job, unknown batch → 1013", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    assert.equal(
      (await upload(sb, t, "email\tfirstName\na@x.com\tA\n", "format=tsv")).body.success,
      true,
    );
    const failed = await upload(sb, t, "email,bogus\na@x.com,1\n");
    assert.equal(failed.body.result?.[0]?.status, "Failed");
    assert.equal(
      errorCode((await call(sb, t, "GET", "/bulk/v1/leads/batch/4242.json")).body),
      "1013",
    );
  });

  test("§11.4 a file over 10 MB → 413; a non-multipart body → 612", async () => {
    const sb = await sandbox({ maxBulkBodyBytes: 10_000_000 });
    const t = await token(sb);
    const big = await upload(sb, t, `email\n${"a@x.com\n".repeat(1_300_000)}`);
    assert.equal(big.status, 413);
    const plain = await call(sb, t, "POST", "/bulk/v1/leads.json?format=csv", "email\na@x.com", {
      "content-type": "text/csv",
    });
    assert.equal(errorCode(plain.body), "612");
  });
});
