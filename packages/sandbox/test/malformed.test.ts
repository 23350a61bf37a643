import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, errorCode, outcomes, sandbox, token } from "./helpers.ts";

describe("malformed requests get Marketo's documented answer, never a crash", async () => {
  const sb = await sandbox();
  const t = await token(sb);
  const cases: Array<{
    name: string;
    method: string;
    path: string;
    body?: string | Uint8Array;
    type?: string;
    code?: string;
    /** Per-record outcomes, for a call that succeeds at response level. */
    records?: string[];
    status?: number;
  }> = [
    {
      name: "binary garbage as JSON → 609",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
      type: "application/json",
      code: "609",
    },
    {
      name: "empty JSON body → 609",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: "",
      type: "application/json",
      code: "609",
    },
    {
      name: "no content type → 612",
      method: "POST",
      path: "/rest/v1/leads/push.json",
      body: "{}",
      type: "",
      code: "612",
    },
    {
      name: "input not an array → 609",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: '{"input":{"email":"a@x.com"}}',
      type: "application/json",
      code: "609",
    },
    {
      name: "deeply nested values → 1001, not a crash",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: '{"input":[{"email":{"a":[[[1]]]}}]}',
      type: "application/json",
      records: ["1001"],
    },
    {
      name: "input as a string → 609",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: '{"input":"a@x.com"}',
      type: "application/json",
      code: "609",
    },
    {
      name: "numbers and nested arrays as records → 1003 each",
      method: "POST",
      path: "/rest/v1/leads.json",
      body: '{"input":[1,[2,[3]],"x"]}',
      type: "application/json",
      records: ["1003", "1003", "1003"],
    },
    {
      name: "JSON null → 609",
      method: "POST",
      path: "/rest/v1/customobjects/car_c.json",
      body: "null",
      type: "application/json",
      code: "609",
    },
    {
      name: "multipart garbage to bulk → 613",
      method: "POST",
      path: "/bulk/v1/leads.json",
      body: "--x\r\nnot really",
      type: "multipart/form-data; boundary=x",
      code: "613",
    },
    {
      name: "unknown path outside /rest → 610",
      method: "GET",
      path: "/wp-admin/index.php",
      code: "610",
    },
    { name: "unknown REST path → 610", method: "GET", path: "/rest/v9/what.json", code: "610" },
    {
      name: "percent-garbage path → 610",
      method: "GET",
      path: "/rest/v1/lead/%E0%A4%A.json",
      code: "610",
    },
    {
      name: "PUT on sync leads → 605",
      method: "PUT",
      path: "/rest/v1/leads.json",
      body: "{}",
      type: "application/json",
      code: "605",
    },
    {
      name: "huge URI → 414",
      method: "GET",
      path: `/rest/v1/leads.json?x=${"y".repeat(20_000)}`,
      status: 414,
    },
    { name: "identity unknown path → 610", method: "GET", path: "/identity/other", code: "610" },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const headers: Record<string, string> = { authorization: `Bearer ${t}` };
      if (c.type !== undefined && c.type !== "") headers["content-type"] = c.type;
      const init: RequestInit = { method: c.method, headers };
      if (c.body !== undefined) init.body = c.body;
      const res = await fetch(`${sb.url}${c.path}`, init);
      const text = await res.text();
      assert.doesNotMatch(text, /\n\s+at .*\(/, "no stack trace");
      assert.equal(res.status, c.status ?? 200);
      if (c.code !== undefined) assert.equal(JSON.parse(text).errors[0].code, c.code);
      if (c.records !== undefined) assert.deepEqual(outcomes(JSON.parse(text)), c.records);
    });
  }

  test("§10.2 an activity attribute named by an object → skipped 1003, not 611", async () => {
    const lead = await call(sb, t, "POST", "/rest/v1/leads.json", {
      input: [{ email: "activity@x.com" }],
    });
    const res = await call(sb, t, "POST", "/rest/v1/activities/external.json", {
      input: [
        {
          leadId: lead.body.result?.[0]?.id,
          activityDate: "2026-01-01T00:00:00Z",
          activityTypeId: 100001,
          primaryAttributeValue: "x",
          attributes: [{ apiName: { toString: 1 }, value: 1 }],
        },
      ],
    });
    assert.deepEqual(outcomes(res.body), ["1003"]);
  });

  test("/_sandbox/clock refuses a time outside a Date's range and keeps its own", async () => {
    const before = sb.clock.now();
    for (const body of [{ set: 1e300 }, { advanceMs: 1e300 }, { set: "not a date" }]) {
      const res = await fetch(`${sb.url}/_sandbox/clock`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.ok(Math.abs(sb.clock.now() - before) < 60_000);
    assert.equal(typeof (sb.state() as { now: string }).now, "string");
  });

  test("/_sandbox/foreign-traffic with a non-object body → 400", async () => {
    const res = await fetch(`${sb.url}/_sandbox/foreign-traffic`, { method: "POST", body: "null" });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expected an object/);
  });

  test("the server still answers after all of that", async () => {
    assert.equal((await call(sb, t, "GET", "/rest/v1/leads/describe.json")).body.success, true);
    assert.equal(errorCode((await call(sb, t, "GET", "/rest/v1/nope.json")).body), "610");
  });
});
