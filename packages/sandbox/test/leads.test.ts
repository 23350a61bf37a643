import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { call, errorCode, outcomes, sandbox, token } from "./helpers.ts";

describe("§3 envelope, §4 sync leads, §5.1 push, §6 reads", async () => {
  const sb = await sandbox({
    customFields: [
      { name: "crmRef", dataType: "string" },
      { name: "score2", dataType: "integer" },
    ],
    partitions: [
      { id: 1, name: "Default" },
      { id: 2, name: "Mexico" },
    ],
  });
  const t = await token(sb);
  const sync = (body: unknown) => call(sb, t, "POST", "/rest/v1/leads.json", body);
  beforeEach(() => sb.reset());

  test("§3.1 envelope: requestId hex#hex-epoch-ms, success, result; no empty errors/warnings", async () => {
    const res = await sync({ input: [{ email: "a@x.com" }] });
    assert.equal(res.status, 200);
    const [counter, ms] = res.body.requestId.split("#");
    assert.match(counter ?? "", /^[0-9a-f]+$/);
    assert.ok(Math.abs(parseInt(ms ?? "", 16) - sb.clock.now()) < 5000);
    assert.deepEqual(Object.keys(res.body), ["requestId", "result", "success"]);
  });

  test("§3.2 response-level errors are HTTP 200 with success:false and quoted codes", async () => {
    const res = await call(sb, t, "POST", "/rest/v1/leads.json", "{not json");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.errors, [{ code: "609", message: "Invalid JSON" }]);
    assert.equal(res.body.result, undefined);
  });

  test("§3.3 results come back in input order", async () => {
    const input = Array.from({ length: 20 }, (_, i) => ({ email: `o${19 - i}@x.com` }));
    const res = await sync({ input });
    const ids = (res.body.result ?? []).map((r) => r.id as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    const read = await call(
      sb,
      t,
      "GET",
      `/rest/v1/leads.json?filterType=email&filterValues=o19@x.com`,
    );
    assert.equal(read.body.result?.[0]?.id, ids[0]);
  });

  // Each case: seed leads, then one sync; the expected outcome per record.
  const cases: Array<{
    name: string;
    seed?: unknown[];
    seedAction?: string;
    body: Record<string, unknown>;
    expect: string[];
  }> = [
    {
      name: "createOrUpdate creates then updates",
      seed: [{ email: "a@x.com" }],
      body: { input: [{ email: "a@x.com" }, { email: "b@x.com" }] },
      expect: ["updated", "created"],
    },
    {
      name: "default action is createOrUpdate",
      body: { input: [{ email: "n@x.com" }] },
      expect: ["created"],
    },
    {
      name: "createOnly on an existing lead → 1005",
      seed: [{ email: "a@x.com" }],
      body: { action: "createOnly", input: [{ email: "a@x.com" }, { email: "c@x.com" }] },
      expect: ["1005", "created"],
    },
    {
      name: "updateOnly on a missing lead → 1004",
      body: { action: "updateOnly", input: [{ email: "none@x.com" }] },
      expect: ["1004"],
    },
    {
      name: "updateOnly by id",
      seed: [{ email: "a@x.com" }],
      body: {
        action: "updateOnly",
        lookupField: "id",
        input: [{ id: 1, firstName: "Z" }, { id: 999 }],
      },
      expect: ["updated", "1004"],
    },
    {
      name: "id with createOnly → 1003",
      body: { action: "createOnly", input: [{ id: 5, email: "q@x.com" }] },
      expect: ["1003"],
    },
    {
      name: "createDuplicate always creates",
      seed: [{ email: "a@x.com" }],
      body: { action: "createDuplicate", input: [{ email: "a@x.com" }] },
      expect: ["created"],
    },
    {
      name: "two leads share the lookup value → 1007",
      seed: [{ email: "d@x.com" }],
      seedAction: "createDuplicate",
      body: { input: [{ email: "d@x.com" }] },
      expect: ["1007"],
    },
    {
      name: "unknown field → 1006",
      body: { input: [{ email: "a@x.com", notAField: 1 }] },
      expect: ["1006"],
    },
    { name: "1001 email type", body: { input: [{ email: "not-an-email" }] }, expect: ["1001"] },
    {
      name: "1001 integer type",
      body: { input: [{ email: "a@x.com", leadScore: "high" }] },
      expect: ["1001"],
    },
    {
      name: "1001 boolean type",
      body: { input: [{ email: "a@x.com", unsubscribed: "maybe" }] },
      expect: ["1001"],
    },
    {
      name: "1001 date type",
      body: { input: [{ email: "a@x.com", dateOfBirth: "1990-02-31" }] },
      expect: ["1001"],
    },
    {
      name: "1001 currency type",
      body: { input: [{ email: "a@x.com", annualRevenue: "lots" }] },
      expect: ["1001"],
    },
    {
      name: "1001 custom integer field",
      body: { input: [{ email: "a@x.com", score2: 1.5 }] },
      expect: ["1001"],
    },
    {
      name: "custom string field accepted and searchable as lookupField",
      seed: [{ email: "a@x.com", crmRef: "R1" }],
      body: { lookupField: "crmRef", input: [{ crmRef: "R1", firstName: "Q" }] },
      expect: ["updated"],
    },
    {
      name: "missing lookup value with createOrUpdate → 1002",
      body: { input: [{ firstName: "NoEmail" }] },
      expect: ["1002"],
    },
    {
      name: "lookupField firstName → 1011",
      body: { lookupField: "firstName", input: [{ firstName: "A" }] },
      expect: ["1011"],
    },
    {
      name: "unknown lookupField → 1006",
      body: { lookupField: "nope", input: [{ email: "a@x.com" }] },
      expect: ["1006"],
    },
    {
      name: "partitionName known → created in it",
      body: { partitionName: "Mexico", input: [{ email: "m@x.com" }] },
      expect: ["created"],
    },
    {
      name: "unknown partitionName → 1008",
      body: { partitionName: "Mars", input: [{ email: "m@x.com" }] },
      expect: ["1008"],
    },
    {
      name: "update into another partition → 1010",
      seed: [{ email: "a@x.com" }],
      body: { partitionName: "Mexico", input: [{ email: "a@x.com" }] },
      expect: ["1010"],
    },
    {
      name: "a non-object record → 1003",
      body: { input: [42, { email: "ok@x.com" }] },
      expect: ["1003", "created"],
    },
  ];
  for (const c of cases) {
    test(`§4 ${c.name}`, async () => {
      if (c.seed !== undefined) {
        assert.equal((await sync({ input: c.seed })).body.success, true);
        if (c.seedAction !== undefined) await sync({ action: c.seedAction, input: c.seed });
      }
      const res = await sync(c.body);
      assert.equal(res.body.success, true, res.text);
      assert.deepEqual(outcomes(res.body), c.expect);
      for (const r of res.body.result ?? []) {
        if (r.status === "skipped") assert.equal(r.id, undefined);
        else assert.equal(typeof r.id, "number");
      }
    });
  }

  test("§4 the partition of a lead is readable as leadPartitionId", async () => {
    await sync({ partitionName: "Mexico", input: [{ email: "p@x.com" }] });
    const res = await call(
      sb,
      t,
      "GET",
      "/rest/v1/leads.json?filterType=email&filterValues=p@x.com&fields=email,leadPartitionId",
    );
    assert.equal(res.body.result?.[0]?.leadPartitionId, 2);
  });

  const refusals: Array<[string, unknown, string]> = [
    [
      "301 records → 1003 (response level)",
      { input: Array.from({ length: 301 }, (_, i) => ({ email: `r${i}@x.com` })) },
      "1003",
    ],
    ["no input → 701", { action: "createOnly" }, "701"],
    ["empty input → 701", { input: [] }, "701"],
    ["unknown action → 1003", { action: "upsert", input: [{ email: "a@x.com" }] }, "1003"],
    ["a JSON array body → 609", [1, 2], "609"],
  ];
  for (const [name, body, code] of refusals) {
    test(`§4 ${name}`, async () => {
      const res = await sync(body);
      assert.equal(res.body.success, false);
      assert.equal(errorCode(res.body), code);
    });
  }

  test("§4 300 records is accepted", async () => {
    const res = await sync({
      input: Array.from({ length: 300 }, (_, i) => ({ email: `ok${i}@x.com` })),
    });
    assert.equal(res.body.result?.length, 300);
  });

  test("§5.1 push lead: upserts, makes members, records source and reason", async () => {
    await sync({ input: [{ email: "a@x.com" }] });
    const res = await call(sb, t, "POST", "/rest/v1/leads/push.json", {
      programName: "2026 Q3 Product Webinar",
      source: "Partner site",
      reason: "Downloaded whitepaper",
      programStatus: "Registered",
      input: [{ email: "a@x.com" }, { email: "new@x.com", leadScore: 5 }],
    });
    assert.deepEqual(outcomes(res.body), ["updated", "created"]);
    const state = sb.state() as {
      programs: Array<{ name: string; statuses: Record<string, number> }>;
      activities: number;
    };
    const webinar = state.programs.find((p) => p.name === "2026 Q3 Product Webinar");
    assert.deepEqual(webinar?.statuses, { Registered: 2 });
    assert.equal(state.activities, 2);
  });

  const pushCases: Array<[string, Record<string, unknown>, string]> = [
    ["missing programName → 701", { input: [{ email: "a@x.com" }] }, "701"],
    ["unknown programName → 1013", { programName: "Nope", input: [{ email: "a@x.com" }] }, "1013"],
  ];
  for (const [name, body, code] of pushCases) {
    test(`§5.1 ${name}`, async () => {
      assert.equal(
        errorCode((await call(sb, t, "POST", "/rest/v1/leads/push.json", body)).body),
        code,
      );
    });
  }

  test("§5.1 programStatus not in the channel → record skipped 1025", async () => {
    const res = await call(sb, t, "POST", "/rest/v1/leads/push.json", {
      programName: "2026 Q3 Product Webinar",
      programStatus: "Nope",
      input: [{ email: "a@x.com" }],
    });
    assert.deepEqual(outcomes(res.body), ["1025"]);
  });

  test("§6.2 paging: batchSize, nextPageToken, moreResult", async () => {
    await sync({
      input: Array.from({ length: 5 }, () => ({ email: "same@x.com" })),
      action: "createDuplicate",
    });
    const seen: number[] = [];
    let path = "/rest/v1/leads.json?filterType=email&filterValues=same@x.com&batchSize=2";
    for (let i = 0; i < 10; i++) {
      const res = await call(sb, t, "GET", path);
      seen.push(...(res.body.result ?? []).map((r) => r.id as number));
      if (res.body.moreResult !== true) {
        assert.equal(res.body.nextPageToken, undefined);
        break;
      }
      assert.match(res.body.nextPageToken ?? "", /^[A-Z2-7]+=*$/);
      path = `/rest/v1/leads.json?filterType=email&filterValues=same@x.com&batchSize=2&nextPageToken=${res.body.nextPageToken}`;
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  const readCases: Array<[string, string, string | number]> = [
    ["no match → empty result", "filterType=email&filterValues=none@x.com", 0],
    ["filterType firstName → 1011", "filterType=firstName&filterValues=A", "1011"],
    ["missing filterType → 701", "filterValues=a@x.com", "701"],
    [
      "unknown field in fields → 1006",
      "filterType=email&filterValues=a@x.com&fields=bogus",
      "1006",
    ],
    [
      "a foreign nextPageToken → 1003",
      "filterType=email&filterValues=a@x.com&nextPageToken=AAAA",
      "1003",
    ],
    [
      "301 filter values → 1003",
      `filterType=id&filterValues=${Array.from({ length: 301 }, (_, i) => i + 1).join(",")}`,
      "1003",
    ],
  ];
  for (const [name, query, expected] of readCases) {
    test(`§6.2 ${name}`, async () => {
      const res = await call(sb, t, "GET", `/rest/v1/leads.json?${query}`);
      if (typeof expected === "number") assert.equal(res.body.result?.length, expected);
      else assert.equal(errorCode(res.body), expected);
    });
  }

  test("§6.2 more than 1,000 matches → 1003 Too many results match the filter", async () => {
    for (let i = 0; i < 4; i++) {
      await sync({
        action: "createDuplicate",
        input: Array.from({ length: 251 }, () => ({ email: "many@x.com" })),
      });
    }
    const res = await call(
      sb,
      t,
      "GET",
      "/rest/v1/leads.json?filterType=email&filterValues=many@x.com",
    );
    assert.deepEqual(res.body.errors, [
      { code: "1003", message: "Too many results match the filter" },
    ]);
  });

  test("§6.3 POST _method=GET with a form body queries; without it, POST syncs", async () => {
    await sync({ input: [{ email: "f@x.com", firstName: "F" }] });
    const query = await call(
      sb,
      t,
      "POST",
      "/rest/v1/leads.json?_method=GET",
      "filterType=email&filterValues=f@x.com&fields=email,firstName",
      { "content-type": "application/x-www-form-urlencoded" },
    );
    assert.deepEqual(query.body.result, [{ id: 1, email: "f@x.com", firstName: "F" }]);
    const json = await call(sb, t, "POST", "/rest/v1/leads.json?_method=GET", {
      filterType: "email",
      filterValues: ["f@x.com"],
    });
    assert.equal(json.body.result?.[0]?.id, 1);
    const wrongType = await call(sb, t, "POST", "/rest/v1/leads.json?_method=GET", "x", {
      "content-type": "text/plain",
    });
    assert.equal(errorCode(wrongType.body), "612");
    assert.equal((sb.state() as { leads: number }).leads, 1);
  });

  test("§6.1 get lead by id; unknown id → empty result", async () => {
    await sync({ input: [{ email: "g@x.com", lastName: "G" }] });
    assert.equal(
      (await call(sb, t, "GET", "/rest/v1/lead/1.json")).body.result?.[0]?.lastName,
      "G",
    );
    assert.deepEqual((await call(sb, t, "GET", "/rest/v1/lead/77.json")).body.result, []);
  });
});
