import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { API_KEY, openApi, SYNC_ROUTE } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

const lead = (i: number, extra: Record<string, unknown> = {}) => ({
  email: `lead${i}@example.com`,
  firstName: `Lead${i}`,
  ...extra,
});

describe("HTTP API (in process, built-in sandbox)", () => {
  let api: Api;
  before(async () => {
    api = await openApi();
  });
  after(async () => {
    await api.close();
  });

  describe("auth", () => {
    it("answers 401 with a small JSON body and no data without a key", async () => {
      const res = await api.call("GET", "/v1/leads", undefined, {});
      assert.equal(res.status, 401);
      assert.deepEqual(Object.keys(res.json), ["error", "message"]);
      assert.equal(res.json.error, "unauthorized");
    });
    it("answers 401 to a wrong key in either header, and to a key of another length", async () => {
      for (const headers of [
        { authorization: "Bearer wrong-key-0123456789abcdef" },
        { "x-api-key": "wrong-key-0123456789abcdef" },
        { "x-api-key": `${API_KEY}x` },
        { authorization: API_KEY },
      ]) {
        assert.equal((await api.call("GET", "/v1/leads", undefined, headers)).status, 401);
      }
    });
    it("accepts the key as a Bearer token and as X-API-Key", async () => {
      const bearer = await api.call("GET", "/v1/leads", undefined, {
        authorization: `Bearer ${API_KEY}`,
      });
      const header = await api.call("GET", "/v1/leads", undefined, { "x-api-key": API_KEY });
      assert.equal(bearer.status, 200);
      assert.equal(header.status, 200);
    });
    it("guards every /v1 route, the OpenAPI document and /metrics, but not /healthz", async () => {
      for (const [method, path] of [
        ["POST", "/v1/leads"],
        ["GET", "/v1/leads/1"],
        ["POST", "/v1/repost"],
        ["GET", "/v1/report"],
        ["GET", "/v1/explain/1006"],
        ["GET", "/v1/destinations"],
        ["GET", "/v1/stats/codes"],
        ["POST", "/v1/destinations/sandbox/pause"],
        ["POST", "/v1/destinations/sandbox/resume"],
        ["POST", "/v1/test-integration"],
        ["GET", "/v1/openapi.json"],
        ["GET", "/metrics"],
      ] as const) {
        assert.equal(
          (await api.call(method, path, undefined, {})).status,
          401,
          `${method} ${path}`,
        );
      }
      const health = await api.call("GET", "/healthz", undefined, {});
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: "ok" });
    });
  });

  describe("bad input", () => {
    it("intake: 400 naming the field for a bad route, no leads, a bad lead value and a bad map", async () => {
      const cases: [unknown, string][] = [
        [{ route: { endpoint: "nope" }, leads: [lead(1)] }, "route.endpoint"],
        [{ route: { endpoint: "pushLeads" }, leads: [lead(1)] }, "route.programName"],
        [{ route: SYNC_ROUTE, leads: [] }, "leads"],
        [{ route: SYNC_ROUTE, leads: [{ email: { nested: true } }] }, "leads.0.email"],
        [{ route: SYNC_ROUTE, leads: [lead(1)], extra: 1 }, "body"],
        [{ route: SYNC_ROUTE, leads: [lead(1)], map: { fields: { a: "1bad" } } }, "map.fields.a"],
        [{ route: SYNC_ROUTE, leads: [lead(1)], destination: "elsewhere" }, "destination"],
      ];
      for (const [body, path] of cases) {
        const res = await api.call("POST", "/v1/leads", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(typeof res.json.error === "string");
        assert.ok(
          res.json.issues.some((i: { path: string }) => i.path === path),
          `${path} in ${JSON.stringify(res.json.issues)}`,
        );
      }
    });
    it("intake: 400 naming a reserved key (__proto__, constructor, prototype) in a lead or the map; nothing stored", async () => {
      const before = (await api.call("GET", "/v1/leads?limit=1")).json.counts;
      const route = JSON.stringify(SYNC_ROUTE);
      for (const k of ["__proto__", "constructor", "prototype"]) {
        const body = `{"route":${route},"leads":[{"email":"r@x.com"},{"email":"s@x.com","${k}":"v"}]}`;
        const res = await api.call("POST", "/v1/leads", body);
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.issues[0].path, `leads.1.${k}`);
        assert.ok(res.json.error.includes(k));
      }
      const map = `{"route":${route},"map":{"fields":{"__proto__":"email"}},"leads":[{"email":"r@x.com"}]}`;
      const res = await api.call("POST", "/v1/leads", map);
      assert.equal(res.status, 400);
      assert.equal(res.json.issues[0].path, "map.fields.__proto__");
      assert.deepEqual((await api.call("GET", "/v1/leads?limit=1")).json.counts, before);
    });
    it("intake: 400 naming the byte offset of invalid UTF-8 (never stored as U+FFFD); nothing stored", async () => {
      const before = (await api.call("GET", "/v1/leads?limit=1")).json.counts;
      const head = Buffer.from(
        `{"route":${JSON.stringify(SYNC_ROUTE)},"leads":[{"email":"u@x.com","firstName":"Zo`,
      );
      const body = Buffer.concat([head, Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
      const res = await api.app.request("/v1/leads", {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body,
      });
      assert.equal(res.status, 400);
      const json = (await res.json()) as { error: string };
      assert.match(json.error, new RegExp(`not valid UTF-8 at byte ${head.length}\\b`));
      assert.deepEqual((await api.call("GET", "/v1/leads?limit=1")).json.counts, before);
    });
    it("intake: 400 for malformed JSON, and for more than 1,000 leads", async () => {
      assert.equal((await api.call("POST", "/v1/leads", "{not json")).status, 400);
      const many = Array.from({ length: 1001 }, (_, i) => ({ email: `m${i}@example.com` }));
      const res = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: many });
      assert.equal(res.status, 400);
      assert.equal(res.json.issues[0].path, "leads");
    });
    it("list: 400 for a page over 500, a bad status, a bad time and a bad cursor", async () => {
      for (const [query, path] of [
        ["limit=501", "query.limit"],
        ["limit=0", "query.limit"],
        ["status=lost", "query.status"],
        ["since=yesterday", "query.since"],
        ["cursor=abc", "query.cursor"],
      ]) {
        const res = await api.call("GET", `/v1/leads?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.json.issues[0].path, path);
      }
    });
    it("detail: 400 for a non-numeric id, 404 for an unknown lead", async () => {
      assert.equal((await api.call("GET", "/v1/leads/abc")).status, 400);
      const missing = await api.call("GET", "/v1/leads/999999");
      assert.equal(missing.status, 404);
      assert.match(missing.json.error, /999999/);
    });
    it("repost: refuses an empty filter without all: true, and bad ids", async () => {
      const empty = await api.call("POST", "/v1/repost", { filter: {} });
      assert.equal(empty.status, 400);
      assert.equal(empty.json.issues[0].path, "filter");
      assert.equal((await api.call("POST", "/v1/repost", {})).status, 400);
      const ids = await api.call("POST", "/v1/repost", { ids: ["x"] });
      assert.equal(ids.status, 400);
      assert.equal(ids.json.issues[0].path, "ids.0");
      const status = await api.call("POST", "/v1/repost", { filter: { status: ["lost"] } });
      assert.equal(status.json.issues[0].path, "filter.status.0");
    });
    it("report, explain, destinations and test-integration: 400 or 404 with the reason", async () => {
      assert.equal((await api.call("GET", "/v1/report?format=xml")).status, 400);
      assert.equal((await api.call("GET", "/v1/explain/12")).status, 400);
      assert.equal((await api.call("GET", "/v1/explain/no%20such")).status, 400);
      const unknown = await api.call("GET", "/v1/explain/9999");
      assert.equal(unknown.status, 404);
      assert.ok(Array.isArray(unknown.json.nearest));
      assert.equal((await api.call("POST", "/v1/destinations/nowhere/pause", {})).status, 404);
      assert.equal((await api.call("POST", "/v1/destinations/nowhere/resume")).status, 404);
      const past = await api.call("POST", "/v1/destinations/sandbox/pause", {
        until: "2000-01-01",
      });
      assert.equal(past.status, 400);
      assert.equal(past.json.issues[0].path, "until");
      const ti = await api.call("POST", "/v1/test-integration", { route: SYNC_ROUTE });
      assert.equal(ti.status, 400);
      assert.equal(ti.json.issues[0].path, "lead");
    });
    it("an unknown route is a JSON 404", async () => {
      const res = await api.call("GET", "/v1/nothing-here");
      assert.equal(res.status, 404);
      assert.equal(res.json.error, "no such route");
    });
  });

  describe("intake → dispatcher → lead detail", () => {
    it("stores before answering 202, delivers, and shows every attempt with request and response", async () => {
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [lead(1), lead(2)],
      });
      assert.equal(res.status, 202);
      assert.equal(res.json.accepted, 2);
      assert.equal(res.json.alreadyAccepted, 0);
      assert.equal(res.json.ids.length, 2);
      // Stored when the answer came: the list shows them queued before any delivery.
      const queued = await api.call("GET", "/v1/leads?status=queued");
      assert.deepEqual(
        queued.json.leads.map((l: { id: number }) => l.id).sort(),
        [...res.json.ids].sort(),
      );
      await api.drain();
      const detail = await api.call("GET", `/v1/leads/${res.json.ids[0]}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.json.lead.status, "delivered");
      assert.equal(detail.json.lead.email, "lead1@example.com");
      assert.equal(detail.json.attempts.length, 1);
      const [attempt] = detail.json.attempts;
      assert.equal(attempt.responseStatusCode, "200");
      // The lead's last code is its last attempt's, in the list as on its own page.
      assert.equal(detail.json.lead.lastCode, "200");
      const delivered = await api.call("GET", "/v1/leads?status=delivered");
      assert.deepEqual(
        delivered.json.leads.map((l: { lastCode: string }) => l.lastCode),
        ["200", "200"],
      );
      assert.equal(attempt.endpoint, "/rest/v1/leads.json");
      assert.equal(attempt.request.input.email, "lead1@example.com");
      assert.ok(attempt.response);
      assert.equal(detail.json.explanation, null);
    });
    it("the same rows again are already accepted, not stored twice", async () => {
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [lead(1), lead(2)],
      });
      assert.equal(res.status, 202);
      assert.equal(res.json.accepted, 0);
      assert.equal(res.json.alreadyAccepted, 2);
    });
    it("an unknown field is needs_fix (1006) with the fix naming it; repost with a fixed map delivers it", async () => {
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [lead(50, { role: "Buyer" })],
      });
      const id = res.json.ids[0];
      await api.drain();
      const before = await api.call("GET", `/v1/leads/${id}`);
      assert.equal(before.json.lead.status, "needs_fix");
      assert.equal(before.json.lead.lastCode, "1006");
      assert.equal(before.json.explanation.code, "1006");
      assert.equal(before.json.explanation.values.field, "role");
      assert.match(before.json.explanation.fix, /role/);
      const listed = await api.call("GET", "/v1/leads?status=needs_fix&code=1006");
      assert.ok(listed.json.leads.some((l: { id: number }) => l.id === id));

      const repost = await api.call("POST", "/v1/repost", {
        ids: [id],
        map: { fields: { email: "email", firstName: "firstName", role: "title" } },
      });
      assert.equal(repost.status, 200);
      assert.deepEqual(repost.json, { reposted: 1, ids: [id] });
      await api.drain();
      const afterFix = await api.call("GET", `/v1/leads/${id}`);
      assert.equal(afterFix.json.lead.status, "delivered");
      // Its last code is 200 now; a code any of its calls got still finds it.
      const byLast = await api.call("GET", "/v1/leads?code=1006");
      assert.ok(!byLast.json.leads.some((l: { id: number }) => l.id === id));
      const byAny = await api.call("GET", "/v1/leads?attemptCode=1006,503");
      assert.ok(byAny.json.leads.some((l: { id: number }) => l.id === id));
      assert.equal((await api.call("GET", "/v1/leads?attemptCode=1006;drop")).status, 400);
      const none = await api.call("POST", "/v1/repost", { filter: { attemptCode: ["799"] } });
      assert.deepEqual(none.json, { reposted: 0, ids: [] }, "repost takes the same filter");
      assert.equal(afterFix.json.lead.input.title, "Buyer");
      assert.equal(afterFix.json.attempts.length, 2, "history is kept");
    });
    it("a map sent with the leads is kept: a repost without a map maps them the same way", async () => {
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        map: { fields: { Mail: "email", Job: "role" } },
        leads: [{ Mail: "mapped@example.com", Job: "CEO" }],
      });
      const id = res.json.ids[0];
      await api.drain();
      const refused = await api.call("GET", `/v1/leads/${id}`);
      assert.equal(refused.json.lead.lastCode, "1006");
      await api.call("POST", "/v1/repost", {
        ids: [id],
        map: { fields: { Mail: "email", Job: "title" } },
      });
      await api.drain();
      await api.call("POST", "/v1/repost", { ids: [id] });
      await api.drain();
      const again = await api.call("GET", `/v1/leads/${id}`);
      assert.equal(again.json.lead.status, "delivered");
      assert.deepEqual(again.json.lead.input, { email: "mapped@example.com", title: "CEO" });
      assert.equal(again.json.attempts.length, 3);
    });
    it("detail answers the field map a lead was posted with (not its file), null without one", async () => {
      const map = { fields: { Mail: "email", Job: "role" }, unmapped: "drop" };
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        map,
        leads: [{ Mail: "shown-map@example.com", Job: "CFO" }],
      });
      const id = res.json.ids[0];
      await api.drain();
      const shown = await api.call("GET", `/v1/leads/${id}`);
      assert.deepEqual(shown.json.map, map);
      assert.doesNotMatch(
        shown.text,
        /maps[\\/]|[0-9a-f]{32}\.json/,
        "the file's path stays inside",
      );
      assert.ok(!("mapPath" in shown.json.lead));

      // The dashboard's loop: edit the shown map, repost with it, the detail shows the new one.
      const edited = { ...map, fields: { ...map.fields, Job: "title" } };
      await api.call("POST", "/v1/repost", { ids: [id], map: edited });
      await api.drain();
      const fixed = await api.call("GET", `/v1/leads/${id}`);
      assert.equal(fixed.json.lead.status, "delivered");
      assert.deepEqual(fixed.json.map, edited);

      const plain = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [lead(60)],
      });
      const none = await api.call("GET", `/v1/leads/${plain.json.ids[0]}`);
      assert.equal(none.json.map, null, "no map: the identity map");
    });
    it("repost by filter answers how many and which; the list finds them by those ids", async () => {
      const res = await api.call("POST", "/v1/repost", {
        filter: { email: "lead1@example.com" },
      });
      assert.equal(res.json.reposted, 1);
      assert.equal(res.json.ids.length, 1);
      // Queued again: the list by ids shows them as they are now, whatever filter found them.
      const listed = await api.call("GET", `/v1/leads?ids=${res.json.ids.join(",")}`);
      assert.deepEqual(
        listed.json.leads.map((l: { id: number; status: string }) => [l.id, l.status]),
        [[res.json.ids[0], "queued"]],
      );
      assert.equal((await api.call("GET", "/v1/leads?ids=1,x")).status, 400);
      const many = Array.from({ length: 501 }, (_, i) => i + 1).join(",");
      assert.equal((await api.call("GET", `/v1/leads?ids=${many}`)).status, 400);
      await api.drain();
    });
  });

  describe("paging", () => {
    it("the cursor walks every lead exactly once, newest first, with counts", async () => {
      const rows = Array.from({ length: 23 }, (_, i) => ({ email: `page${i}@example.com` }));
      await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: rows });
      const seen: number[] = [];
      let cursor: string | null = null;
      let total = 0;
      for (let page = 0; page < 100; page++) {
        const res: Awaited<ReturnType<Api["call"]>> = await api.call(
          "GET",
          `/v1/leads?email=page&limit=5${cursor ? `&cursor=${cursor}` : ""}`,
        );
        assert.equal(res.status, 200);
        assert.ok(res.json.leads.length <= 5);
        total = Object.values(res.json.counts as Record<string, number>).reduce((a, b) => a + b, 0);
        seen.push(...res.json.leads.map((l: { id: number }) => l.id));
        cursor = res.json.nextCursor;
        if (cursor === null) break;
      }
      assert.equal(seen.length, 23);
      assert.equal(new Set(seen).size, 23);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => b - a),
      );
      assert.equal(total, 23);
      await api.drain();
    });
  });

  describe("report", () => {
    it("streams CSV with the report's columns, formulas defused", async () => {
      await api.call("POST", "/v1/leads", {
        route: { endpoint: "pushLeads", programName: "=SUM(A1)" },
        leads: [{ email: "formula@example.com" }],
      });
      await api.drain();
      const res = await api.call("GET", "/v1/report?format=csv&email=formula");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/csv/);
      const [header, row, extra] = res.text.trim().split("\n");
      assert.match(header ?? "", /^LeadId,Email,Destination,Endpoint,Program,RequestContent/);
      assert.match(row ?? "", /,formula@example.com,sandbox,[^,]*,'=SUM\(A1\),/);
      assert.equal(extra, undefined);
    });
    it("streams JSON, one row per lead, or per attempt with attempts=true", async () => {
      const leads = await api.call("GET", "/v1/report?format=json&email=lead50");
      assert.equal(leads.status, 200);
      assert.equal(leads.json.length, 1);
      assert.equal(leads.json[0].Status, "delivered");
      const attempts = await api.call("GET", "/v1/report?format=json&attempts=true&email=lead50");
      assert.equal(attempts.json.length, 2);
      assert.deepEqual(
        attempts.json.map((r: { ResponseStatusCode: string }) => r.ResponseStatusCode),
        ["1006", "200"],
      );
    });
  });

  describe("explain", () => {
    it("answers the catalog entry, and with ?message= names the field", async () => {
      const plain = await api.call("GET", "/v1/explain/606");
      assert.equal(plain.status, 200);
      assert.equal(plain.json.code, "606");
      assert.ok(plain.json.meaning.length > 0);
      const named = await api.call(
        "GET",
        `/v1/explain/1006?message=${encodeURIComponent("Field 'role' not found")}`,
      );
      assert.equal(named.json.values.field, "role");
      assert.match(named.json.fix, /role/);
    });

    it("answers Postout's own codes, and a lead refused with one explains it with its own fix", async () => {
      const own = await api.call("GET", "/v1/explain/too-long");
      assert.equal(own.status, 200);
      assert.equal(own.json.marketo, false);
      assert.match(own.json.meaning, /longer than its Marketo field/);
      assert.ok(own.json.fix.length > 0);
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [{ email: "jösé@example.com" }],
      });
      assert.equal(res.status, 202, res.text);
      const detail = await api.call("GET", `/v1/leads/${res.json.ids[0]}`);
      assert.equal(detail.json.lead.status, "needs_fix");
      assert.equal(detail.json.explanation.code, "email-not-ascii");
      assert.equal(detail.json.explanation.known, true);
      assert.match(detail.json.explanation.meaning, /outside ASCII/);
      assert.match(detail.json.explanation.fix, /^The part before the @/);
    });
  });

  describe("destinations", () => {
    it("shows state, calls, quota with a forecast, and pauses and resumes", async () => {
      const list = await api.call("GET", "/v1/destinations");
      assert.equal(list.status, 200);
      const [d] = list.json.destinations;
      assert.equal(d.name, "sandbox");
      assert.equal(d.paused, null);
      assert.ok(d.calls["200"] > 0);
      assert.ok(d.quota.used > 0);
      assert.equal(d.quota.limit, 50_000);
      assert.ok("runsOutAt" in d.quota && typeof d.quota.resetsAt === "string");

      const paused = await api.call("POST", "/v1/destinations/sandbox/pause", {
        reason: "list cleanup",
      });
      assert.equal(paused.status, 200);
      assert.equal(paused.json.paused.reason, "list cleanup");
      assert.equal(paused.json.paused.until, null);
      const res = await api.call("POST", "/v1/leads", {
        route: SYNC_ROUTE,
        leads: [{ email: "while-paused@example.com" }],
      });
      assert.equal(await api.drain(), 0, "nothing is sent while paused");
      const waiting = await api.call("GET", `/v1/leads/${res.json.ids[0]}`);
      assert.ok(["queued", "paused"].includes(waiting.json.lead.status));
      assert.equal(waiting.json.attempts.length, 0);

      const resumed = await api.call("POST", "/v1/destinations/sandbox/resume");
      assert.equal(resumed.status, 200);
      assert.equal(resumed.json.paused, null);
      await api.drain();
      const sent = await api.call("GET", `/v1/leads/${res.json.ids[0]}`);
      assert.equal(sent.json.lead.status, "delivered");
    });
    it("pauses until a time when given one", async () => {
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const res = await api.call("POST", "/v1/destinations/sandbox/pause", { until });
      assert.equal(res.json.paused.until, until);
      await api.call("POST", "/v1/destinations/sandbox/resume");
    });
  });

  describe("test integration", () => {
    it("answers the Request and the Response of one lead, kept as a test", async () => {
      const res = await api.call("POST", "/v1/test-integration", {
        route: SYNC_ROUTE,
        lead: { email: "probe@example.com", firstName: "Probe" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.status, "test");
      assert.equal(res.json.request.action, "createOrUpdate");
      assert.equal(res.json.request.input.email, "probe@example.com");
      assert.equal(res.json.responseStatusCode, "200");
      assert.ok(res.json.response);
    });
    it("a test lead and the same lead posted for real never share an intake key, either way round", async () => {
      const first = { email: "both-ways@example.com", firstName: "Tess" };
      const tested = await api.call("POST", "/v1/test-integration", {
        route: SYNC_ROUTE,
        lead: first,
      });
      assert.equal(tested.json.status, "test");
      const real = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [first] });
      assert.equal(real.status, 202);
      assert.deepEqual([real.json.accepted, real.json.alreadyAccepted], [1, 0]);
      assert.notEqual(real.json.ids[0], tested.json.leadId);
      assert.equal((await api.store.getLead(real.json.ids[0]))?.test, false);

      const second = { email: "real-first@example.com", firstName: "Rhea" };
      const posted = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [second] });
      const test = await api.call("POST", "/v1/test-integration", {
        route: SYNC_ROUTE,
        lead: second,
      });
      assert.equal(test.json.status, "test");
      assert.notEqual(test.json.leadId, posted.json.ids[0]);
    });
    it("shows the fix when mapping refuses the lead", async () => {
      const res = await api.call("POST", "/v1/test-integration", {
        route: SYNC_ROUTE,
        lead: { email: "probe2@example.com", role: "x" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.status, "needs_fix");
      assert.equal(res.json.responseStatusCode, "1006");
      assert.match(res.json.fix, /role/);
    });
  });

  describe("metrics and the OpenAPI document", () => {
    it("/metrics has leads by status, attempts by code, queue depth, calls and quota", async () => {
      const res = await api.call("GET", "/metrics");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
      assert.match(res.text, /^postout_leads\{status="delivered"\} \d+$/m);
      assert.match(res.text, /^postout_attempts\{code="1006"\} \d+$/m);
      assert.match(res.text, /^postout_queue_depth\{destination="sandbox"\} \d+$/m);
      assert.match(res.text, /^postout_marketo_calls\{destination="sandbox",code="200"\} \d+$/m);
      assert.match(res.text, /^postout_quota_used\{destination="sandbox"\} [1-9]\d*$/m);
    });
    it("/v1/openapi.json lists every route", async () => {
      const res = await api.call("GET", "/v1/openapi.json");
      assert.equal(res.status, 200);
      const paths = res.json.paths as Record<string, Record<string, unknown>>;
      const listed = Object.entries(paths).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      );
      assert.deepEqual(listed.sort(), [
        "DELETE /v1/destinations/{name}",
        "GET /healthz",
        "GET /metrics",
        "GET /v1/destinations",
        "GET /v1/destinations/{name}",
        "GET /v1/explain/{code}",
        "GET /v1/leads",
        "GET /v1/leads/{id}",
        "GET /v1/report",
        "GET /v1/stats/codes",
        "PATCH /v1/destinations/{name}",
        "POST /v1/destinations",
        "POST /v1/destinations/test",
        "POST /v1/destinations/{name}/pause",
        "POST /v1/destinations/{name}/resume",
        "POST /v1/destinations/{name}/test",
        "POST /v1/leads",
        "POST /v1/repost",
        "POST /v1/test-integration",
      ]);
      assert.ok(res.json.components.securitySchemes.apiKey);
    });
  });

  describe("secrets", () => {
    it("no response carried the sandbox's client secret or the API key", () => {
      assert.ok(api.responses.length > 50);
      for (const text of api.responses) {
        assert.ok(!text.includes(api.clientSecret), "client secret in a response");
        assert.ok(!text.includes(API_KEY), "API key in a response");
      }
    });
  });
});

describe("HTTP API body limit", () => {
  it("refuses a body over the limit with 413 and a clear message", async () => {
    const api = await openApi({ maxBodyBytes: 1024 });
    try {
      const leads = Array.from({ length: 50 }, (_, i) => ({ email: `big${i}@example.com` }));
      const res = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads });
      assert.equal(res.status, 413);
      assert.match(res.json.error, /larger than 1024 bytes/);
    } finally {
      await api.close();
    }
  });
});
