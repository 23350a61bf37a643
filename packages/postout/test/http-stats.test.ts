import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;
type Bucket = { start: string; counts: Record<string, number> };

const HOUR = 3_600_000;

function merged(buckets: readonly Bucket[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const b of buckets)
    for (const [code, n] of Object.entries(b.counts)) all[code] = (all[code] ?? 0) + n;
  return all;
}

describe("GET /v1/stats/codes (in process, built-in sandbox)", () => {
  let api: Api;
  before(async () => {
    api = await openApi();
    await api.call("POST", "/v1/leads", {
      route: SYNC_ROUTE,
      leads: [
        { email: "s1@example.com" },
        { email: "s2@example.com" },
        { email: "s3@example.com", role: "CTO" }, // 1006: the sandbox has no `role`
      ],
    });
    await api.drain();
  });
  after(async () => {
    await api.close();
  });

  it("by default: the last 24 h by hour, every bucket, the attempts in the current one", async () => {
    const res = await api.call("GET", "/v1/stats/codes");
    assert.equal(res.status, 200);
    assert.equal(res.json.bucket, "hour");
    const buckets: Bucket[] = res.json.buckets;
    // 24 h from a time inside an hour touch 25 hour buckets.
    assert.equal(buckets.length, 25);
    for (const [i, b] of buckets.entries()) {
      assert.equal(Date.parse(b.start) % HOUR, 0, "aligned to the hour");
      if (i > 0) assert.equal(Date.parse(b.start) - Date.parse(buckets[i - 1]?.start ?? ""), HOUR);
    }
    // The attempts were just made: in the last bucket (or the one before, across an hour's turn).
    assert.deepEqual(merged(buckets.slice(-2)), { "200": 2, "1006": 1 });
    assert.ok(buckets.slice(0, -2).every((b) => Object.keys(b.counts).length === 0));
    assert.equal(Date.parse(res.json.until) - Date.parse(res.json.since), 24 * HOUR);
  });

  it("by day over a range, and by destination", async () => {
    const now = Date.now();
    const since = new Date(now - 3 * 24 * HOUR).toISOString();
    const until = new Date(now + 60_000).toISOString();
    const res = await api.call("GET", `/v1/stats/codes?bucket=day&since=${since}&until=${until}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.bucket, "day");
    assert.equal(res.json.buckets.length, 4);
    assert.equal(res.json.buckets.at(-1).start.slice(10), "T00:00:00.000Z");
    const total = (res.json.buckets as Bucket[]).reduce((n, b) => n + (b.counts["200"] ?? 0), 0);
    assert.equal(total, 2);

    const mine = await api.call("GET", `/v1/stats/codes?destination=sandbox`);
    assert.deepEqual(merged(mine.json.buckets), { "200": 2, "1006": 1 });
    const other = await api.call("GET", `/v1/stats/codes?destination=elsewhere`);
    assert.ok((other.json.buckets as Bucket[]).every((b) => Object.keys(b.counts).length === 0));
  });

  it("an earlier range holds none of the attempts", async () => {
    const until = new Date(Date.now() - 2 * HOUR).toISOString();
    const res = await api.call("GET", `/v1/stats/codes?until=${until}`);
    assert.equal(res.status, 200);
    assert.ok((res.json.buckets as Bucket[]).every((b) => Object.keys(b.counts).length === 0));
  });

  it("400 naming the parameter: a bad bucket or time, since after until, too many buckets", async () => {
    const bad = await api.call("GET", "/v1/stats/codes?bucket=minute");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.issues[0].path, "query.bucket");
    const time = await api.call("GET", "/v1/stats/codes?since=yesterday");
    assert.equal(time.status, 400);
    assert.equal(time.json.issues[0].path, "query.since");
    const reversed = await api.call(
      "GET",
      "/v1/stats/codes?since=2026-11-24T00:00:00Z&until=2026-11-23T00:00:00Z",
    );
    assert.equal(reversed.status, 400);
    assert.match(reversed.json.issues[0].message, /after until/);
    const many = await api.call("GET", "/v1/stats/codes?since=2020-01-01&until=2026-01-01");
    assert.equal(many.status, 400);
    assert.match(many.json.issues[0].message, /at most 1000.*bucket=day/);
    const byDay = await api.call(
      "GET",
      "/v1/stats/codes?since=2024-01-01&until=2026-01-01&bucket=day",
    );
    assert.equal(byDay.status, 200, "the same range fits by day");
    assert.equal(byDay.json.buckets.length, 732);
  });

  it("needs the API key and is in the OpenAPI document", async () => {
    assert.equal((await api.call("GET", "/v1/stats/codes", undefined, {})).status, 401);
    const doc = await api.call("GET", "/v1/openapi.json");
    const op = doc.json.paths["/v1/stats/codes"]?.get;
    assert.ok(op, "documented");
    assert.deepEqual(op.parameters.map((p: { name: string }) => p.name).sort(), [
      "bucket",
      "destination",
      "since",
      "until",
    ]);
  });
});
