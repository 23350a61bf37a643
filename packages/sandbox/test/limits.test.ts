import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countsAgainstQuota, nextQuotaReset, quotaDay } from "../src/index.ts";
import { call, errorCode, sandbox, token, until } from "./helpers.ts";

const describePath = "/rest/v1/leads/describe.json";

describe("§12 limits", () => {
  test("§12 quota day is midnight America/Chicago: CST date (UTC-6) and CDT date (UTC-5)", () => {
    const table: Array<[string, string]> = [
      ["2026-01-15T05:59:59Z", "2026-01-14"],
      ["2026-01-15T06:00:00Z", "2026-01-15"],
      ["2026-07-15T04:59:59Z", "2026-07-14"],
      ["2026-07-15T05:00:00Z", "2026-07-15"],
    ];
    for (const [at, day] of table) assert.equal(quotaDay(Date.parse(at)), day, at);
    const resets: Array<[string, string]> = [
      ["2026-01-15T12:00:00Z", "2026-01-16T06:00:00.000Z"],
      ["2026-07-15T12:00:00Z", "2026-07-16T05:00:00.000Z"],
      ["2026-03-07T12:00:00Z", "2026-03-08T06:00:00.000Z"],
      ["2026-03-08T12:00:00Z", "2026-03-09T05:00:00.000Z"],
      ["2026-11-01T12:00:00Z", "2026-11-02T06:00:00.000Z"],
    ];
    for (const [at, next] of resets)
      assert.equal(new Date(nextQuotaReset(Date.parse(at))).toISOString(), next, at);
  });

  test("§12 which calls count against the quota (one rule)", () => {
    const table: Array<[string, boolean]> = [
      ["200", true],
      ["1003", true],
      ["609", true],
      ["610", true],
      ["612", true],
      ["603", true],
      ["701", true],
      ["601", false],
      ["602", false],
      ["604", false],
      ["605", false],
      ["608", false],
      ["611", false],
      ["606", false],
      ["607", false],
      ["615", false],
      ["413", false],
      ["414", false],
      ["502", false],
      ["reset", false],
    ];
    for (const [code, counted] of table) assert.equal(countsAgainstQuota(code), counted, code);
  });

  test("§12 606 past the calls of the rolling window, with Marketo's message; the window slides", async () => {
    const sb = await sandbox({ rateLimit: { calls: 5, windowMs: 20_000 }, timeScale: 1 });
    const t = await token(sb);
    for (let i = 0; i < 3; i++)
      assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
    sb.clock.advance(10_000);
    for (let i = 0; i < 2; i++)
      assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
    const over = await call(sb, t, "GET", describePath);
    assert.deepEqual(over.body.errors, [
      { code: "606", message: "Max rate limit '5' exceeded with in '20' secs" },
    ]);
    // 10.5 s later the first three have left the sliding window; the two at 10 s and the
    // refused one (countRejected) have not.
    sb.clock.advance(10_500);
    assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
    assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
    assert.equal(errorCode((await call(sb, t, "GET", describePath)).body), "606");
  });

  test("§12 calls answered 601, 602, 604 or 605 do not fill the rate window; 606 refusals do", async () => {
    const sb = await sandbox({ rateLimit: { calls: 3, windowMs: 20_000 } });
    const t = await token(sb);
    for (let i = 0; i < 5; i++)
      assert.equal(errorCode((await call(sb, "bad", "GET", describePath)).body), "601");
    assert.equal(errorCode((await call(sb, t, "DELETE", describePath)).body), "605");
    sb.faults.add({ code: "604", count: 2 });
    for (let i = 0; i < 2; i++)
      assert.equal(errorCode((await call(sb, t, "GET", describePath)).body), "604");
    for (let i = 0; i < 3; i++)
      assert.equal((await call(sb, t, "GET", describePath)).body.success, true, `call ${i}`);
    assert.equal(errorCode((await call(sb, t, "GET", describePath)).body), "606");
    assert.equal((sb.state() as { rateWindow: { calls: number } }).rateWindow.calls, 4);
  });

  test("§12 foreign traffic consumes the shared rate window", async () => {
    const sb = await sandbox({ rateLimit: { calls: 100, windowMs: 20_000 } });
    const t = await token(sb);
    sb.foreignTraffic({ calls: 100 });
    assert.equal(errorCode((await call(sb, t, "GET", describePath)).body), "606");
  });

  test("§12 615 at the 11th call in flight (ours and other apps')", async () => {
    const sb = await sandbox({ rateLimit: false });
    const t = await token(sb);
    const inFlight = () => (sb.state() as { calls: { inFlight: number } }).calls.inFlight;
    // A call counts until it returns: ten syncs whose bodies are still arriving hold their
    // slots for as long as the test wants, however slow the machine.
    const releases: Array<() => void> = [];
    const text = new TextEncoder();
    const held = Array.from({ length: 10 }, (_, i) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      releases.push(resolve);
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(text.encode('{"input":[{"email":'));
          await promise;
          controller.enqueue(text.encode(`"held${i}@x.com"}]}`));
          controller.close();
        },
      });
      return fetch(`${sb.url}/rest/v1/leads.json`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit);
    });
    await until(() => inFlight() === 10);
    const eleventh = await call(sb, t, "GET", describePath);
    assert.deepEqual(eleventh.body.errors, [
      { code: "615", message: "Concurrent access limit reached" },
    ]);
    for (const release of releases) release();
    const answers = await Promise.all(held.map(async (r) => (await r).json()));
    assert.ok(answers.every((a) => (a as { success: boolean }).success));
    assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
    assert.equal((sb.state() as { calls: { highestInFlight: number } }).calls.highestInFlight, 10);
    sb.foreignTraffic({ holdSlots: 10, holdMs: 60_000 });
    assert.equal(errorCode((await call(sb, t, "GET", describePath)).body), "615");
    sb.clock.advance(60_000 * 0.01);
    assert.equal((await call(sb, t, "GET", describePath)).body.success, true);
  });

  test("§12 607 past the daily quota, until midnight America/Chicago", async () => {
    const sb = await sandbox({ dailyQuota: 3, clock: Date.parse("2026-01-15T05:58:00Z") });
    const t = await token(sb);
    await call(sb, t, "GET", describePath);
    await call(sb, "bad", "GET", describePath);
    sb.foreignTraffic({ quota: 2 });
    const over = await call(sb, t, "GET", describePath);
    assert.deepEqual(over.body.errors, [{ code: "607", message: "Daily quota reached" }]);
    sb.clock.set(Date.parse("2026-01-15T06:00:01Z"));
    // The jump outlived the (scaled) token, so authenticate again first.
    assert.equal((await call(sb, await token(sb), "GET", describePath)).body.success, true);
  });

  test("§12 identity and 601 calls are not counted; successful calls are", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    await token(sb);
    await call(sb, "bad", "GET", describePath);
    await call(sb, t, "GET", describePath);
    await call(sb, t, "POST", "/rest/v1/leads.json", { input: [{ email: "bad" }] });
    const state = sb.state() as { quota: { used: number } };
    assert.equal(state.quota.used, 2);
    assert.deepEqual(
      sb.calls().map((c) => [c.code, c.counted]),
      [
        ["200", false],
        ["200", false],
        ["601", false],
        ["200", true],
        ["200", true],
      ],
    );
  });

  test("§12 stats/usage.json and stats/errors.json", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    await call(sb, t, "GET", describePath);
    await call(sb, t, "GET", "/rest/v1/nothing.json");
    const usage = await call(sb, t, "GET", "/rest/v1/stats/usage.json");
    const u = usage.body.result?.[0] as {
      date: string;
      total: number;
      users: Array<{ userId: string; count: number }>;
    };
    assert.match(u.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(u.total, 2);
    assert.equal(u.users[0]?.count, 2);
    const errors = await call(sb, t, "GET", "/rest/v1/stats/errors.json");
    assert.deepEqual(errors.body.result?.[0]?.errors, [{ errorCode: "610", count: 1 }]);
    assert.equal(
      (await call(sb, t, "GET", "/rest/v1/stats/usage/last7days.json")).body.result?.length,
      7,
    );
  });

  const sizeCases: Array<{
    name: string;
    path: string;
    bytes: number;
    status: number;
    stream?: boolean;
  }> = [
    {
      name: "body of 1,000,001 bytes → 413",
      path: "/rest/v1/leads.json",
      bytes: 1_000_001,
      status: 413,
    },
    {
      name: "chunked body past the limit → 413",
      path: "/rest/v1/leads.json",
      bytes: 1_000_001,
      status: 413,
      stream: true,
    },
    {
      name: "body of 1,000,000 bytes is read (→ 609, not 413)",
      path: "/rest/v1/leads.json",
      bytes: 1_000_000,
      status: 200,
    },
  ];
  for (const c of sizeCases) {
    test(`§12 ${c.name}`, async () => {
      const sb = await sandbox();
      const t = await token(sb);
      const payload = new Uint8Array(c.bytes).fill(0x20);
      const init: RequestInit & { duplex?: string } = {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
      };
      init.body = c.stream === true ? new Blob([payload]).stream() : payload;
      if (c.stream === true) init.duplex = "half";
      const res = await fetch(`${sb.url}${c.path}`, init);
      assert.equal(res.status, c.status);
      const text = await res.text();
      if (c.status === 413) assert.match(text, /<html>/);
      else assert.equal(JSON.parse(text).errors[0].code, "609");
    });
  }

  test("§12 414 past 8 KiB of URI; 8 KiB exactly passes", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    const base = "/rest/v1/leads.json?filterType=email&filterValues=";
    const over = await call(sb, t, "GET", base + "a".repeat(8193 - base.length));
    assert.equal(over.status, 414);
    const exact = await call(sb, t, "GET", base + "a".repeat(8192 - base.length));
    assert.equal(exact.status, 200);
  });

  const codeCases: Array<[string, string, string, unknown, Record<string, string>, string]> = [
    ["609 invalid JSON", "POST", "/rest/v1/leads.json", "{", {}, "609"],
    [
      "612 wrong content type",
      "POST",
      "/rest/v1/leads.json",
      "input=1",
      { "content-type": "text/plain" },
      "612",
    ],
    ["610 unknown resource", "GET", "/rest/v1/unknown.json", undefined, {}, "610"],
    ["605 DELETE on sync leads", "DELETE", "/rest/v1/leads.json", undefined, {}, "605"],
    ["605 GET on push lead", "GET", "/rest/v1/leads/push.json", undefined, {}, "605"],
  ];
  for (const [name, method, path, body, headers, code] of codeCases) {
    test(`§12 ${name}`, async () => {
      const sb = await sandbox();
      const t = await token(sb);
      const res = await call(sb, t, method, path, body, headers);
      assert.equal(res.status, 200);
      assert.equal(errorCode(res.body), code);
    });
  }
});
