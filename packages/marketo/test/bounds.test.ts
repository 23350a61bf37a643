import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { HttpLevelError, InvalidResponseError, ResponseLevelError } from "../src/errors.ts";
import { clip, MAX_CHARS, MAX_REASONS } from "../src/index.ts";
import type { MarketoClientOptions } from "../src/options.ts";
import { type HostileServer, hostileServer, json, stream, token } from "./hostile-server.ts";

const CUT = /… \[cut [\d,]+ chars\]$/;
const MiB = 1024 * 1024;

describe("clip", () => {
  test("keeps short text, cuts long text with a marker saying how much", () => {
    assert.equal(clip("abc", 3), "abc");
    assert.equal(clip("x".repeat(200_000), 1_000), `${"x".repeat(1_000)}… [cut 199,000 chars]`);
  });

  test("never splits a surrogate pair", () => {
    const cut = clip(`ab${"😀".repeat(10)}`, 3);
    assert.equal(cut, "ab… [cut 20 chars]");
    assert.ok(cut.isWellFormed());
  });
});

describe("bounds on what a hostile answer can make the client keep", () => {
  let marketo: HostileServer;
  before(async () => {
    marketo = await hostileServer();
  });
  after(() => marketo.close());

  const client = (more: Partial<MarketoClientOptions> = {}) => {
    clearTokenCache();
    return new MarketoClient({
      baseUrl: marketo.url,
      clientId: "id",
      clientSecret: "s3cr3t-bounds-0123456789",
      retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 1 },
      gate: { windowMs: 1_000 },
      ...more,
    });
  };
  const rest = (answer: Parameters<HostileServer["answer"]>[0]) =>
    marketo.answer((req, res) => (req.url.startsWith("/identity") ? token(res) : answer(req, res)));

  test("a 200 KB message in errors[] is kept cut, in the error and in every record's reason", async () => {
    const huge = "x".repeat(200_000);
    rest((_req, res) =>
      json(res, {
        requestId: "r#1",
        success: false,
        errors: Array.from({ length: 50 }, () => ({ code: "603", message: huge })),
      }),
    );
    const result = await client().syncLeads([
      { email: "a@example.com" },
      { email: "b@example.com" },
    ]);
    assert.equal(result.counts.failed, 2);
    const error = result.results[0]?.error;
    assert.ok(error instanceof ResponseLevelError, String(error));
    assert.equal(error.code, "603");
    assert.equal(error.errors.length, MAX_REASONS, "at most MAX_REASONS members are kept");
    for (const e of error.errors) {
      assert.equal(e.message, `${"x".repeat(MAX_CHARS.message)}… [cut 199,000 chars]`);
    }
    for (const r of result.results) {
      assert.ok(r.reasons.length <= MAX_REASONS);
      for (const reason of r.reasons) assert.match(reason.message, CUT);
    }
    // Everything one record carries is kilobytes, not the 10 MB Marketo's answer held.
    const perRecord = JSON.stringify({ ...result.results[0], error: { message: error.message } });
    assert.ok(perRecord.length < 30_000, `${perRecord.length} chars per record`);
    assert.ok(error.message.length < 12_000, `${error.message.length} chars of message`);
  });

  test("a 200 KB reason on one record is kept cut; its template values are bounded too", async () => {
    rest((_req, res) =>
      json(res, {
        requestId: "r#2",
        success: true,
        result: [
          {
            status: "skipped",
            reasons: [{ code: "1006", message: `Field '${"f".repeat(200_000)}' not found` }],
          },
        ],
      }),
    );
    const result = await client().syncLeads([{ email: "a@example.com" }]);
    const reason = result.results[0]?.reasons[0];
    assert.equal(result.results[0]?.status, "skipped");
    assert.equal(reason?.code, "1006");
    assert.match(reason?.message ?? "", CUT);
    assert.ok((reason?.message.length ?? 0) < MAX_CHARS.message + 40);
    for (const value of Object.values(reason?.values ?? {})) {
      assert.ok(value.length <= MAX_CHARS.message);
    }
  });

  test("a requestId of a megabyte is cut to MAX_CHARS.requestId, on success and on error", async () => {
    const requestId = "r".repeat(MiB);
    rest((_req, res) =>
      json(res, { requestId, success: true, result: [{ id: 5, status: "created" }] }),
    );
    const ok = await client().syncLeads([{ email: "a@example.com" }]);
    assert.equal(ok.results[0]?.status, "created");
    assert.match(ok.results[0]?.requestId ?? "", CUT);
    assert.ok((ok.results[0]?.requestId?.length ?? 0) < MAX_CHARS.requestId + 40);
    assert.deepEqual(
      ok.requestIds.map((id) => id.length),
      [ok.results[0]?.requestId?.length],
    );

    rest((_req, res) =>
      json(res, { requestId, success: false, errors: [{ code: "603", message: "Access denied" }] }),
    );
    await assert.rejects(client().getListByName("x"), (error: unknown) => {
      assert.ok(error instanceof ResponseLevelError);
      assert.match(error.requestId ?? "", CUT);
      assert.ok((error.raw?.body.length ?? 0) < MAX_CHARS.body + 40, "the raw body is cut too");
      return true;
    });
  });

  test("a 2xx body over maxResponseBytes fails with response_too_large, the rest never read", async () => {
    const written: Promise<number>[] = [];
    rest((_req, res) => {
      written.push(
        stream(res, { total: 64 * MiB, head: '{"requestId":"r#3","success":true,"result":["' }),
      );
    });
    await assert.rejects(client({ maxResponseBytes: MiB }).getListByName("x"), (error: unknown) => {
      assert.ok(error instanceof InvalidResponseError, String(error));
      assert.equal(error.code, "response_too_large");
      assert.equal(error.raw?.cutAtBytes, MiB);
      assert.ok(error.message.length < 1_000);
      return true;
    });
    const sent = await Promise.all(written);
    assert.equal(sent.length, 1, "one request");
    assert.ok((sent[0] ?? 0) < 8 * MiB, `${sent[0]} bytes written before the client hung up`);
  });

  test("by default a body stops at 16 MiB: a 1 GB answer costs 16 MiB", async () => {
    const written: Promise<number>[] = [];
    rest((_req, res) => {
      written.push(stream(res, { total: 1024 * MiB, head: "{}" }));
    });
    await assert.rejects(client().getListByName("x"), (error: unknown) => {
      assert.ok(error instanceof InvalidResponseError, String(error));
      assert.equal(error.code, "response_too_large");
      assert.equal(error.raw?.cutAtBytes, 16 * MiB);
      return true;
    });
    const sent = await Promise.all(written);
    assert.ok((sent[0] ?? 0) < 24 * MiB, `${sent[0]} bytes written before the client hung up`);
  });

  test("an error status with a body over the bound keeps its HTTP class and a short message", async () => {
    const written: Promise<number>[] = [];
    rest((_req, res) => {
      written.push(stream(res, { status: 400, contentType: "text/html", total: 64 * MiB }));
    });
    await assert.rejects(client({ maxResponseBytes: MiB }).getListByName("x"), (error: unknown) => {
      assert.ok(error instanceof HttpLevelError, String(error));
      assert.equal(error.code, "400");
      assert.ok(error.message.length < 300, error.message);
      return true;
    });
    const sent = await Promise.all(written);
    assert.ok((sent[0] ?? 0) < 8 * MiB, `${sent[0]} bytes written before the client hung up`);
  });

  test("a bulk file over maxDownloadBytes fails the download with response_too_large", async () => {
    const written: Promise<number>[] = [];
    rest((req, res) => {
      if (req.url.startsWith("/bulk/v1/leads.json")) {
        return json(res, {
          requestId: "b#1",
          success: true,
          result: [{ batchId: 9, status: "Queued" }],
        });
      }
      if (req.url.startsWith("/bulk/v1/leads/batch/9.json")) {
        return json(res, {
          requestId: "b#2",
          success: true,
          result: [
            {
              batchId: 9,
              status: "Complete",
              numOfLeadsProcessed: 0,
              numOfRowsFailed: 1,
              numOfRowsWithWarning: 0,
            },
          ],
        });
      }
      written.push(
        stream(res, { contentType: "text/csv", total: 64 * MiB, head: "email,Reason\n" }),
      );
    });
    const job = await client({ maxDownloadBytes: 2 * MiB }).importLeads([
      { email: "a@example.com" },
    ]);
    await assert.rejects(job.wait({ pollIntervalMs: 1 }), (error: unknown) => {
      assert.ok(error instanceof InvalidResponseError, String(error));
      assert.equal(error.code, "response_too_large");
      assert.equal(error.raw?.cutAtBytes, 2 * MiB);
      return true;
    });
    const sent = await Promise.all(written);
    assert.ok((sent[0] ?? 0) < 12 * MiB, `${sent[0]} bytes written before the client hung up`);
  });

  test("bulk import: a 200 KB job message and a 200 KB row reason are kept cut", async () => {
    const huge = "r".repeat(200_000);
    const bulk = (jobStatus: string, message: string | undefined) =>
      rest((req, res) => {
        if (req.url.startsWith("/bulk/v1/leads.json")) {
          return json(res, {
            requestId: "b#1",
            success: true,
            result: [{ batchId: 4, status: "Queued" }],
          });
        }
        if (req.url.startsWith("/bulk/v1/leads/batch/4.json")) {
          return json(res, {
            requestId: "b#2",
            success: true,
            result: [
              {
                batchId: 4,
                status: jobStatus,
                numOfLeadsProcessed: 0,
                numOfRowsFailed: 1,
                numOfRowsWithWarning: 0,
                message,
              },
            ],
          });
        }
        res.writeHead(200, { "content-type": "text/csv" });
        res.end(`email,postoutRowId,Import Failure Reason\na@example.com,0,${huge}\n`);
      });

    bulk("Failed", huge);
    const failed = await (await client().importLeads([{ email: "a@example.com" }])).wait({
      pollIntervalMs: 1,
    });
    assert.equal(failed.rows[0]?.status, "failed");
    assert.match(failed.rows[0]?.reason ?? "", CUT);
    assert.match(failed.batches[0]?.message ?? "", CUT);

    bulk("Complete", undefined);
    const done = await (await client().importLeads([{ email: "a@example.com" }])).wait({
      pollIntervalMs: 1,
    });
    assert.equal(done.rows[0]?.status, "failed");
    assert.match(done.rows[0]?.reason ?? "", CUT);
  });
});
