import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { API_KEY, openApi } from "./http-helpers.ts";

const NONE = {};

function form(key: string) {
  return {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key }).toString(),
  };
}

describe("the dashboard behind the API key: sign in, session cookie, static files", () => {
  let api: Awaited<ReturnType<typeof openApi>>;
  let dir: string;
  let cookie: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-dash-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>Postout</title><div id=root>");
    writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log('dashboard')");
    api = await openApi({ dashboardDir: dir });
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("without a session, / sends the browser to /login and assets answer 401", async () => {
    const root = await api.call("GET", "/", undefined, NONE);
    assert.equal(root.status, 303);
    assert.equal(root.headers.get("location"), "/login");
    const asset = await api.call("GET", "/assets/app-abc123.js", undefined, NONE);
    assert.equal(asset.status, 401);
    assert.doesNotMatch(asset.text, /dashboard'/);
  });

  test("/login is a static form under a strict Content-Security-Policy", async () => {
    const page = await api.call("GET", "/login", undefined, NONE);
    assert.equal(page.status, 200);
    assert.match(page.text, /<form method="post" action="\/login">/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
  });

  test("a wrong key gets 401, the form again, and no cookie", async () => {
    const res = await api.app.request("/login", { method: "POST", ...form("not-the-key-at-all") });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /That is not the API key/);
    assert.equal(res.headers.get("set-cookie"), null);
  });

  test("the right key sets an HttpOnly SameSite=Strict cookie that does not hold the key", async () => {
    const res = await api.app.request("/login", { method: "POST", ...form(API_KEY) });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/");
    const set = res.headers.get("set-cookie") ?? "";
    assert.match(set, /^postout_session=\d+\.[\w-]{43}; Max-Age=43200; /);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.ok(!set.includes(API_KEY), "the cookie must not carry the key");
    cookie = set.split(";")[0] as string;
  });

  test("signed in, / and the assets are served; index.html is not cached", async () => {
    const root = await api.call("GET", "/", undefined, { cookie });
    assert.equal(root.status, 200);
    assert.match(root.text, /<title>Postout<\/title>/);
    assert.equal(root.headers.get("cache-control"), "no-store");
    const asset = await api.call("GET", "/assets/app-abc123.js", undefined, { cookie });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
  });

  test("the session reads /v1; a change needs the dashboard's header too (no cross-site form posts)", async () => {
    assert.equal((await api.call("GET", "/v1/leads", undefined, { cookie })).status, 200);
    const body = { all: true };
    const bare = await api.call("POST", "/v1/repost", body, { cookie });
    assert.equal(bare.status, 401);
    const withHeader = await api.call("POST", "/v1/repost", body, {
      cookie,
      "x-postout-dashboard": "1",
    });
    assert.equal(withHeader.status, 200);
  });

  test("a forged or stale cookie is refused", async () => {
    const forged = await api.call("GET", "/v1/leads", undefined, {
      cookie: "postout_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    assert.equal(forged.status, 401);
    const keyAsCookie = await api.call("GET", "/", undefined, {
      cookie: `postout_session=${API_KEY}`,
    });
    assert.equal(keyAsCookie.status, 303);
  });

  test("another site cannot sign the browser out (a cross-site form post is refused)", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const res = await api.app.request("/logout", {
        method: "POST",
        headers: { cookie, "sec-fetch-site": site },
      });
      assert.equal(res.status, 403, site);
      assert.equal(res.headers.get("set-cookie"), null, site);
    }
    const own = await api.app.request("/logout", {
      method: "POST",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    assert.equal(own.status, 303);
    assert.match(own.headers.get("set-cookie") ?? "", /postout_session=; Max-Age=0/);
  });

  test("sign out clears the cookie", async () => {
    const res = await api.app.request("/logout", { method: "POST", headers: { cookie } });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/login?signed-out");
    assert.match(res.headers.get("set-cookie") ?? "", /postout_session=; Max-Age=0/);
  });

  test("no answer holds the API key or the client secret", () => {
    const all = api.responses.join("\n");
    assert.ok(!all.includes(API_KEY));
    assert.ok(!all.includes(api.clientSecret));
  });
});

describe("a dashboard session ends", () => {
  test("twelve hours after sign-in, or when its time is edited: the cookie is no second key", async () => {
    let clock = Date.parse("2026-11-23T08:00:00Z");
    const api = await openApi({ now: () => clock });
    try {
      const res = await api.app.request("/login", { method: "POST", ...form(API_KEY) });
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const leads = (c: string) => api.call("GET", "/v1/leads", undefined, { cookie: c });
      clock += 11 * 3_600_000;
      assert.equal((await leads(cookie)).status, 200);
      // The issue time is signed: moving it forward breaks the HMAC.
      const [issued, mac] = cookie.replace("postout_session=", "").split(".");
      const later = `postout_session=${Number(issued) + 3600}.${mac}`;
      assert.equal((await leads(later)).status, 401);
      clock += 1 * 3_600_000 + 1000;
      assert.equal((await leads(cookie)).status, 401);
    } finally {
      await api.close();
    }
  });
});

describe("the dashboard not built", () => {
  test("a signed-in browser is told how to build it (503)", async () => {
    const empty = mkdtempSync(join(tmpdir(), "postout-dash-empty-"));
    const api = await openApi({ dashboardDir: empty });
    try {
      const res = await api.call("GET", "/", undefined, { "x-api-key": API_KEY });
      assert.equal(res.status, 503);
      assert.match(res.text, /npm run build -w @postout\/dashboard/);
    } finally {
      await api.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
