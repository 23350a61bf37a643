import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, errorCode, sandbox, token } from "./helpers.ts";

const path = "/rest/v1/leads/describe.json";

describe("faults and /_sandbox controls", () => {
  test("a catalogue code for the next N calls, then normal again", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    sb.faults.add({ code: "604", count: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push(errorCode((await call(sb, t, "GET", path)).body) ?? "ok");
    assert.deepEqual(codes, ["604", "604", "ok"]);
    assert.deepEqual(sb.faults.list(), []);
  });

  test("HTTP 502/503 faults answer an HTML body", async () => {
    const sb = await sandbox({ faults: [{ code: 503, count: 1, endpoint: "/rest" }] });
    const t = await token(sb);
    const res = await call(sb, t, "GET", path);
    assert.equal(res.status, 503);
    assert.match(res.text, /<h1>503 Service Temporarily Unavailable<\/h1>/);
  });

  test("reset destroys the connection", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    sb.faults.add({ code: "reset", count: 1 });
    await assert.rejects(fetch(`${sb.url}${path}`, { headers: { authorization: `Bearer ${t}` } }));
    assert.equal((await call(sb, t, "GET", path)).body.success, true);
  });

  test("slow answers after delayMs, past a client timeout", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    sb.faults.add({ code: "slow", delayMs: 400, count: 1 });
    await assert.rejects(
      fetch(`${sb.url}${path}`, {
        headers: { authorization: `Bearer ${t}` },
        signal: AbortSignal.timeout(100),
      }),
    );
  });

  test("endpoint prefix and method select the calls hit", async () => {
    const sb = await sandbox({
      faults: [{ code: "611", endpoint: "/rest/v1/leads", method: "POST" }],
    });
    const t = await token(sb);
    assert.equal(
      errorCode(
        (await call(sb, t, "POST", "/rest/v1/leads.json", { input: [{ email: "a@x.com" }] })).body,
      ),
      "611",
    );
    assert.equal((await call(sb, t, "GET", path)).body.success, true);
    assert.equal((await call(sb, t, "GET", "/rest/v1/lists.json")).body.success, true);
  });

  test("faults by rate repeat with the same seed", async () => {
    const run = async () => {
      const sb = await sandbox({ seed: 42, faults: [{ code: "608", rate: 0.5 }] });
      const t = await token(sb);
      const codes: string[] = [];
      for (let i = 0; i < 16; i++)
        codes.push(errorCode((await call(sb, t, "GET", path)).body) ?? "ok");
      return codes;
    };
    const [a, b] = [await run(), await run()];
    assert.deepEqual(a, b);
    assert.ok(a.includes("608") && a.includes("ok"), a.join());
  });

  test("/_sandbox over HTTP: faults, state, calls, clock, revoke, foreign traffic, reset", async () => {
    const sb = await sandbox();
    const t = await token(sb);
    const control = async (method: string, p: string, body?: unknown) => {
      const init: RequestInit = { method };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await fetch(`${sb.url}/_sandbox${p}`, init);
      return {
        status: res.status,
        // biome-ignore lint/suspicious/noExplicitAny: each control answers its own shape; asserts check them.
        json: (await res.json()) as any,
      };
    };
    assert.equal((await control("POST", "/faults", { code: "nope" })).status, 400);
    const added = await control("POST", "/faults", { code: "606", count: 1 });
    assert.equal((added.json[0] as { code: string }).code, "606");
    assert.equal((await control("GET", "/faults")).json.length, 1);
    assert.equal(errorCode((await call(sb, t, "GET", path)).body), "606");
    await control("POST", "/faults", { code: "603" });
    await control("DELETE", "/faults");
    assert.equal((await call(sb, t, "GET", path)).body.success, true);
    const calls = (await control("GET", "/calls")).json as Array<{
      code: string;
      method: string;
      durationMs: number;
    }>;
    assert.deepEqual(
      calls.slice(-2).map((c) => c.code),
      ["606", "200"],
    );
    const clock = await control("POST", "/clock", {
      set: "2026-07-15T04:59:00Z",
      advanceMs: 120_000,
    });
    assert.equal(clock.json.quotaDay, "2026-07-15");
    assert.equal(clock.json.quotaResetsAt, "2026-07-16T05:00:00.000Z");
    const t2 = await token(sb);
    await control("POST", "/revoke");
    assert.equal(errorCode((await call(sb, t2, "GET", path)).body), "601");
    await control("POST", "/foreign-traffic", { quota: 40 });
    const state = (await control("GET", "/state")).json as {
      quota: { used: number };
      calls: { byCode: Record<string, number> };
    };
    // The clock moved to a new Chicago day, so only the foreign calls count today.
    assert.equal(state.quota.used, 40);
    assert.equal(state.calls.byCode["601"], 1);
    const reset = (await control("POST", "/reset")).json as {
      quota: { used: number };
      leads: number;
    };
    assert.equal(reset.quota.used, 0);
    assert.equal((await control("GET", "/nope")).status, 404);
  });

  test("the settable clock: frozen by option, moved by set/advance, resumed and frozen over HTTP", async () => {
    const sb = await sandbox({ clock: Date.parse("2026-03-08T05:59:00Z") });
    const at = sb.clock.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(sb.clock.now(), at, "a frozen clock stands still");
    sb.clock.advance(60_000);
    assert.equal(new Date(sb.clock.now()).toISOString(), "2026-03-08T06:00:00.000Z");
    const clock = async (body: unknown) =>
      (await (
        await fetch(`${sb.url}/_sandbox/clock`, { method: "POST", body: JSON.stringify(body) })
      ).json()) as { now: number; frozen: boolean };
    assert.equal((await clock({ frozen: false })).frozen, false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(sb.clock.now() > at + 60_000, "a resumed clock runs");
    const frozen = await clock({ frozen: true, set: "2026-01-01T00:00:00Z" });
    assert.deepEqual([frozen.frozen, frozen.now], [true, Date.parse("2026-01-01T00:00:00Z")]);
  });

  test("§12 foreign steady traffic fills the window and the quota as the clock runs", async () => {
    const sb = await sandbox({ rateLimit: { calls: 100, windowMs: 20_000 }, timeScale: 1 });
    const t = await token(sb);
    sb.foreignTraffic({ perSecond: 6 });
    sb.clock.advance(20_000);
    assert.equal(errorCode((await call(sb, t, "GET", path)).body), "606");
    assert.equal((sb.state() as { quota: { used: number } }).quota.used, 120);
    // 10 s on, the window still holds 20 s of the stream, plus our refused call at 20 s.
    sb.clock.advance(10_000);
    assert.equal((sb.state() as { rateWindow: { calls: number } }).rateWindow.calls, 121);
  });
});
