import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, errorCode, sandbox, token } from "./helpers.ts";

describe("§2 identity", async () => {
  const sb = await sandbox({ tokenLifetimeSeconds: 3600, timeScale: 1 });
  const q = (id: string, secret: string, grant = "client_credentials") =>
    new URLSearchParams({ grant_type: grant, client_id: id, client_secret: secret }).toString();

  test("§2.1 GET returns a bearer token with expires_in 3599 and scope", async () => {
    const res = await fetch(`${sb.url}/identity/oauth/token?${q(sb.clientId, sb.clientSecret)}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.token_type, "bearer");
    assert.match(String(body.access_token), /^[0-9a-f-]{36}:sb$/);
    assert.equal(body.expires_in, 3599);
    assert.equal(typeof body.scope, "string");
  });

  test("§2.2 the same token comes back with its remaining lifetime", async () => {
    const first = (await (
      await fetch(`${sb.url}/identity/oauth/token?${q(sb.clientId, sb.clientSecret)}`, {
        method: "POST",
      })
    ).json()) as Record<string, number | string>;
    sb.clock.advance(600_000);
    const second = (await (
      await fetch(`${sb.url}/identity/oauth/token?${q(sb.clientId, sb.clientSecret)}`)
    ).json()) as Record<string, number | string>;
    assert.equal(second.access_token, first.access_token);
    assert.ok(Number(second.expires_in) <= Number(first.expires_in) - 599, `${second.expires_in}`);
  });

  test("§2.1 POST with a form body is accepted too", async () => {
    const res = await fetch(`${sb.url}/identity/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: q(sb.clientId, sb.clientSecret),
    });
    assert.equal(res.status, 200);
  });

  for (const [name, id, secret, status, error] of [
    ["bad secret", "x", "y", 401, "invalid_client"],
    ["bad grant type", "", "", 400, "unsupported_grant_type"],
  ] as const) {
    test(`§2.3 ${name} → HTTP ${status}`, async () => {
      const query =
        name === "bad grant type" ? q(sb.clientId, sb.clientSecret, "password") : q(id, secret);
      const res = await fetch(`${sb.url}/identity/oauth/token?${query}`);
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: string }).error, error);
    });
  }

  test("§2.2 expiry: a new token after expiry; 602 on first use of the old one, then 601", async () => {
    const old = await token(sb);
    sb.clock.advance(3_601_000);
    const first = await call(sb, old, "GET", "/rest/v1/leads/describe.json");
    const second = await call(sb, old, "GET", "/rest/v1/leads/describe.json");
    assert.equal(errorCode(first.body), "602");
    assert.equal(first.body.errors?.[0]?.message, "Access token expired");
    assert.equal(errorCode(second.body), "601");
    const fresh = await token(sb);
    assert.notEqual(fresh, old);
    assert.equal((await call(sb, fresh, "GET", "/rest/v1/leads/describe.json")).body.success, true);
  });

  const cases: Array<[string, (t: string) => [string | undefined, string]]> = [
    ["unknown token → 601", () => ["not-a-token", "/rest/v1/leads/describe.json"]],
    ["missing token → 601", () => [undefined, "/rest/v1/leads/describe.json"]],
    [
      "§2.4 access_token query parameter (removed 2026-08-31) → 601",
      (t) => [undefined, `/rest/v1/leads/describe.json?access_token=${t}`],
    ],
  ];
  for (const [name, make] of cases) {
    test(`§2.2 ${name}`, async () => {
      const [tok, path] = make(await token(sb));
      const res = await call(sb, tok, "GET", path);
      assert.equal(res.status, 200);
      assert.equal(errorCode(res.body), "601");
      assert.equal(res.body.errors?.[0]?.message, "Access token invalid");
    });
  }

  test("revokeTokens: the next use of any issued token answers 601", async () => {
    const t = await token(sb);
    sb.revokeTokens();
    assert.equal(errorCode((await call(sb, t, "GET", "/rest/v1/leads/describe.json")).body), "601");
    assert.notEqual(await token(sb), t);
  });

  test("§2.4 acceptAccessTokenQuery: true accepts the query parameter for old clients", async () => {
    const old = await sandbox({ acceptAccessTokenQuery: true });
    const t = await token(old);
    const res = await call(old, undefined, "GET", `/rest/v1/leads/describe.json?access_token=${t}`);
    assert.equal(res.body.success, true);
  });
});
