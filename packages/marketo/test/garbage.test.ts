import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { InvalidResponseError } from "../src/errors.ts";
import { MAX_CHARS } from "../src/index.ts";
import { type HostileServer, hostileServer, json, token } from "./hostile-server.ts";

const THREE = [{ email: "a@example.com" }, { email: "b@example.com" }, { email: "c@example.com" }];

describe("garbage answers to a write are typed errors or unknown records, never crashes", () => {
  let marketo: HostileServer;
  before(async () => {
    marketo = await hostileServer();
  });
  after(() => marketo.close());

  const client = () => {
    clearTokenCache();
    return new MarketoClient({
      baseUrl: marketo.url,
      clientId: "id",
      clientSecret: "s3cr3t-garbage-0123456789",
      retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 },
      gate: { windowMs: 1_000 },
    });
  };
  /** Answers every REST call with `body` (a string is sent as is). */
  const answer = (body: unknown) =>
    marketo.answer((req, res) => (req.url.startsWith("/identity") ? token(res) : json(res, body)));
  const statuses = (r: { results: readonly { status: string }[] }) =>
    r.results.map((x) => x.status);

  test("a 200 that is not JSON: every record failed with InvalidResponseError", async () => {
    answer("<html><body>Service Unavailable</body></html>");
    const result = await client().syncLeads(THREE);
    assert.deepEqual(statuses(result), ["failed", "failed", "failed"]);
    const error = result.results[0]?.error;
    assert.ok(error instanceof InvalidResponseError, String(error));
    assert.equal(error.code, "invalid_response");
  });

  test("success:true with result not an array: every record unknown, to be verified", async () => {
    for (const result of ["oops", { id: 1 }, 42, null]) {
      answer({ requestId: "g#1", success: true, result });
      const batch = await client().syncLeads(THREE);
      assert.deepEqual(statuses(batch), ["unknown", "unknown", "unknown"], JSON.stringify(result));
      assert.equal(batch.results[0]?.reasons[0]?.code, "verify");
    }
  });

  test("a result shorter than the batch: the records without a result are unknown", async () => {
    answer({ requestId: "g#2", success: true, result: [{ id: 11, status: "created" }] });
    const result = await client().syncLeads(THREE);
    assert.deepEqual(statuses(result), ["created", "unknown", "unknown"]);
    assert.equal(result.results[0]?.id, 11);
  });

  test("a write reported with an id that is not an id is unknown, not created", async () => {
    const ids = ["abc", "12", -3, 1.5, 0, Number.MAX_SAFE_INTEGER + 2, "9".repeat(100_000), {}, []];
    answer({
      requestId: "g#3",
      success: true,
      result: ids.map((id) => ({ id, status: "created" })),
    });
    const inputs = ids.map((_, i) => ({ email: `id${i}@example.com` }));
    const result = await client().syncLeads(inputs);
    assert.deepEqual(
      statuses(result),
      ids.map(() => "unknown"),
    );
    for (const r of result.results) {
      assert.equal(r.id, undefined);
      assert.equal(r.reasons[0]?.code, "verify");
      assert.ok((r.reasons[0]?.message.length ?? 0) < 200);
    }
  });

  test("result items that are not objects are unknown with a reason", async () => {
    answer({ requestId: "g#4", success: true, result: [42, null, "created"] });
    const result = await client().syncLeads(THREE);
    assert.deepEqual(statuses(result), ["unknown", "unknown", "unknown"]);
    for (const r of result.results) assert.equal(r.reasons[0]?.code, "verify");
  });

  test("a status word of 200 KB is kept cut", async () => {
    answer({
      requestId: "g#5",
      success: true,
      result: [{ id: 7, status: "w".repeat(200_000) }],
    });
    const result = await client().syncLeads(THREE.slice(0, 1));
    assert.ok((result.results[0]?.marketoStatus?.length ?? 0) < MAX_CHARS.code + 40);
  });

  test("custom object items are matched by seq, the first item of a seq winning", async () => {
    answer({
      requestId: "g#6",
      success: true,
      result: [
        { seq: 1, marketoGUID: "second", status: "updated" },
        { seq: 0, marketoGUID: "first", status: "created" },
        { seq: 0, marketoGUID: "forged", status: "updated" },
      ],
    });
    const result = await client().syncCustomObjects("car_c", [{ vin: "1" }, { vin: "2" }]);
    assert.deepEqual(
      result.results.map((r) => [r.status, r.id]),
      [
        ["created", "first"],
        ["updated", "second"],
      ],
    );
  });
});
