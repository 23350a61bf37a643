import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AccessTokenError, BadCredentialsError } from "../src/errors.ts";
import { MemoryGateStore } from "../src/gate.ts";
import { identityCalls, leads, rigsClosedAfter } from "./helpers.ts";

describe("authentication against the sandbox", () => {
  const open = rigsClosedAfter();

  test("602 then 601: an expired token is replaced once and the call goes through", async () => {
    const { sb, client } = await open();
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 1);
    // Jump past the hour: the cached token is stale on the server while we still hold it.
    sb.clock.advance(3_700_000);
    const list = await client.getListByName("Newsletter Subscribers");
    assert.equal(list?.name, "Newsletter Subscribers");
    const codes = sb.calls().map((c) => c.code);
    assert.ok(codes.includes("602"), `602 seen: ${codes}`);
    assert.equal(identityCalls(sb).length, 2);
    // A second client of the same service still holding the old token string gets 601.
    sb.faults.add({ code: "601", count: 1 });
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 3, "601 also refreshes once");
  });

  test("a revoked token: 601, one refresh, then success", async () => {
    const { sb, client } = await open();
    await client.getListByName("Newsletter Subscribers");
    sb.revokeTokens();
    await client.getListByName("Newsletter Subscribers");
    assert.deepEqual(
      sb.calls().map((c) => c.code),
      ["200", "200", "601", "200", "200"],
    );
  });

  test("601 that persists after the refresh is a typed error, not a loop", async () => {
    const { sb, client } = await open();
    sb.faults.add({ code: "601", endpoint: "/rest/v1/lists.json" });
    await assert.rejects(client.getListByName("x"), AccessTokenError);
    assert.equal(identityCalls(sb).length, 2);
    assert.equal(sb.calls().filter((c) => c.code === "601").length, 2);
  });

  test("the token is read after the gate's wait, so a long wait does not send an expired one", async () => {
    const { sb, make } = await open({ freezeClock: true });
    // A store whose next acquisition waits until the test lets it go, as a full window would.
    const store = new MemoryGateStore();
    const held = Promise.withResolvers<void>();
    const entered = Promise.withResolvers<void>();
    let hold = false;
    const tryAcquire = store.tryAcquire.bind(store);
    store.tryAcquire = async (...args) => {
      if (hold) {
        entered.resolve();
        await held.promise;
      }
      return tryAcquire(...args);
    };
    const client = make({ now: () => sb.clock.now(), gate: { store } });
    await client.getListByName("Newsletter Subscribers");
    hold = true;
    const waiting = client.getListByName("Newsletter Subscribers");
    await entered.promise;
    sb.clock.advance(3_700_000); // the token expires while the call waits for its slot
    hold = false;
    held.resolve();
    assert.equal((await waiting)?.name, "Newsletter Subscribers");
    assert.deepEqual(
      sb.calls().map((c) => c.code),
      ["200", "200", "200", "200"],
      "a fresh token, no 602",
    );
  });

  test("bad credentials: typed 401, never retried, the secret nowhere", async () => {
    const { sb, make, events, logs } = await open();
    const secret = "wrong-secret-0123456789";
    const bad = make({ clientSecret: secret });
    const error = await bad.getListByName("x").catch((e: unknown) => e);
    assert.ok(error instanceof BadCredentialsError);
    assert.equal(error.status, 401);
    assert.equal(error.recovery, "none");
    assert.equal(identityCalls(sb).length, 1);
    const everything = JSON.stringify([
      events,
      logs,
      error.message,
      error.request,
      error.raw,
      String(error.stack),
    ]);
    assert.ok(!everything.includes(secret), "secret leaked");
    // batch writes report it per record instead of throwing
    const result = await bad.syncLeads(leads(2));
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["failed", "failed"],
    );
    assert.ok(result.results[0]?.error instanceof BadCredentialsError);
  });

  test("single flight: 20 concurrent calls share one identity call", async () => {
    const { sb, client } = await open();
    await Promise.all(
      Array.from({ length: 20 }, () => client.getListByName("Newsletter Subscribers")),
    );
    assert.equal(identityCalls(sb).length, 1);
    // and after expiry, 20 concurrent calls that all get 602 refresh once more, not 20 times
    sb.clock.advance(3_700_000);
    await Promise.all(
      Array.from({ length: 20 }, () => client.getListByName("Newsletter Subscribers")),
    );
    assert.equal(identityCalls(sb).length, 2);
  });

  test("the token travels only as Authorization: Bearer and never reaches a log or event", async () => {
    const r = await open();
    let token = "";
    const spy = (async (url: string | URL | Request, init?: RequestInit) => {
      const auth = new Headers(init?.headers).get("authorization");
      if (auth) token = auth.replace("Bearer ", "");
      assert.ok(!String(url).includes("access_token"), "no token in the URL");
      return fetch(url, init);
    }) as typeof fetch;
    await r.make({ fetch: spy }).syncLeads(leads(3));
    assert.ok(token.length > 10);
    const everything = JSON.stringify([r.events, r.logs]);
    assert.ok(!everything.includes(token), "token leaked into events or logs");
    assert.ok(!everything.includes(r.sb.clientSecret), "secret leaked");
    assert.ok(
      r.events.some((e) => e.type === "request") && r.events.some((e) => e.type === "response"),
    );
  });

  test("a token is renewed ahead of expiry, and Marketo's same-token answer is kept until it expires", async () => {
    // 400 s tokens at scale 0.01 live 4 s (expires_in 3); the client renews 600 ms ahead. The
    // sandbox clock stands still and the client reads it, so the test does not race the machine.
    const { sb, make } = await open({ tokenLifetimeSeconds: 400, freezeClock: true });
    const client = make({ now: () => sb.clock.now() });
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 1);
    sb.clock.advance(2_300); // before the margin: the cached token is used
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 1, "no refresh before the margin");
    sb.clock.advance(200); // inside the margin: asks again, gets the same token and its remaining life
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 2);
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 2, "the same token is not asked for again");
    sb.clock.advance(1_600); // past the server's expiry: a new token before the server can refuse it
    await client.getListByName("Newsletter Subscribers");
    assert.equal(identityCalls(sb).length, 3);
    assert.deepEqual(
      sb.calls().filter((c) => c.code === "601" || c.code === "602"),
      [],
    );
  });
});
