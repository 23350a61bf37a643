import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HttpLevelError, InvalidResponseError, NetworkError } from "../src/errors.ts";
import { leads, restCalls, rigsClosedAfter } from "./helpers.ts";

describe("transient failures against the sandbox", () => {
  const open = rigsClosedAfter();

  for (const code of ["502", "500", "503", "604", "608", "611", "713", "719", "reset"]) {
    test(`${code} once: backed off, resent, every record written`, async () => {
      const r = await open();
      r.sb.faults.add({ code, endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
      const result = await r.client.syncLeads(leads(3, `t${code}`));
      assert.deepEqual(
        result.results.map((x) => x.status),
        ["created", "created", "created"],
      );
      assert.deepEqual(
        restCalls(r.sb).map((c) => c.code),
        [code, "200"],
      );
      const retry = r.events.find((e) => e.type === "retry");
      assert.equal(retry?.type === "retry" && retry.code, code === "reset" ? "network" : code);
    });
  }

  test("502 with an HTML body every time: a typed HttpLevelError after the capped attempts", async () => {
    const r = await open();
    r.sb.faults.add({ code: "502", endpoint: "/rest/v1/lists.json" });
    const error = await r.client.getListByName("x").catch((e: unknown) => e);
    assert.ok(error instanceof HttpLevelError, String(error));
    assert.equal(error.status, 502);
    assert.equal(error.recovery, "retry-with-backoff");
    assert.match(error.raw?.body ?? "", /<html/i);
    assert.equal(restCalls(r.sb).length, 6, "maxAttempts");
  });

  test("a connection reset on every attempt is a typed NetworkError", async () => {
    const r = await open();
    r.sb.faults.add({ code: "reset", endpoint: "/rest/v1/lists.json" });
    await assert.rejects(r.client.getListByName("x"), NetworkError);
  });

  test("a timeout on an upsert is resent", async () => {
    const r = await open();
    const client = r.make({ timeouts: { syncLeads: 300 } });
    r.sb.faults.add({
      code: "slow",
      endpoint: "/rest/v1/leads.json",
      method: "POST",
      count: 1,
      delayMs: 1_000,
    });
    const result = await client.syncLeads(leads(3, "slow"));
    assert.equal(result.counts.created + result.counts.updated, 3);
    assert.ok(r.events.some((e) => e.type === "response" && e.code === "timeout"));
  });

  test("a createOnly write that timed out is looked up before anything is resent", async () => {
    const r = await open();
    const client = r.make({ timeouts: { syncLeads: 300 } });
    r.sb.faults.add({
      code: "slow",
      endpoint: "/rest/v1/leads.json",
      method: "POST",
      count: 1,
      delayMs: 800,
    });
    const input = leads(3, "co");
    const result = await client.syncLeads(input, { action: "createOnly" });
    // The lost call had not run yet, so the lookup found nothing and the batch was resent.
    assert.deepEqual(
      result.results.map((x) => x.status),
      ["created", "created", "created"],
    );
    await new Promise((resolve) => setTimeout(resolve, 900)); // the slow call finishes (1005s)
    const methods = restCalls(r.sb).map((c) => `${c.method} ${c.code}`);
    assert.ok(methods.includes("GET 200"), `lookup first: ${methods}`);
    let found = 0;
    for await (const page of client.getLeadsByFilter({
      filterType: "email",
      filterValues: input.map((l) => l.email),
    }))
      found += page.length;
    assert.equal(found, 3, "no duplicates");
  });
});

/** A fetch that delivers the first matching request and then loses its answer. */
function losesFirstAnswer(match: (url: string, method: string) => boolean): typeof fetch {
  let lost = false;
  return (async (url: string | URL | Request, init?: RequestInit) => {
    const response = await fetch(url, init);
    if (!lost && match(String(url), init?.method ?? "GET")) {
      lost = true;
      await response.text();
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    }
    return response;
  }) as typeof fetch;
}

describe("writes whose answer was lost are not blindly replayed", () => {
  const open = rigsClosedAfter();
  const isSync = (url: string, method: string) =>
    method === "POST" && url.endsWith("/rest/v1/leads.json");

  test("createOnly: the leads the lost call created are found and not resent; one that existed before is resent and refused", async () => {
    const r = await open();
    // Created 10 s before the lost call, beyond the 5 s clock skew allowed (the sandbox's clock set back while it is made).
    r.sb.clock.set(new Date(Date.now() - 10_000));
    await r.client.syncLeads([{ email: "before@x.com" }]);
    r.sb.clock.set(new Date());
    const client = r.make({ fetch: losesFirstAnswer(isSync) });
    const result = await client.syncLeads(
      [{ email: "before@x.com" }, { email: "lost1@x.com" }, { email: "lost2@x.com" }],
      { action: "createOnly" },
    );
    assert.deepEqual(
      result.results.map((x) => [x.status, x.reasons[0]?.code]),
      [
        ["skipped", "1005"],
        ["created", undefined],
        ["created", undefined],
      ],
    );
    assert.equal(typeof result.results[1]?.id, "number");
    const posts = restCalls(r.sb).filter((c) => c.method === "POST");
    assert.equal(posts.length, 3, "the first sync, the lost one, and before@x.com again");
  });

  test("createDuplicate: found when the lost call created it, else unknown; never resent", async () => {
    const r = await open();
    const client = r.make({ fetch: losesFirstAnswer(isSync) });
    const result = await client.syncLeads([{ email: "dup@x.com" }], { action: "createDuplicate" });
    assert.equal(result.results[0]?.status, "created");
    assert.equal(typeof result.results[0]?.id, "number");
    assert.equal(restCalls(r.sb).filter((c) => c.method === "POST").length, 1);
    // and when the lookup finds nothing (the lost call never ran), still not resent
    const never = r.make({
      fetch: (async (url: string | URL | Request, init?: RequestInit) => {
        if (isSync(String(url), init?.method ?? "GET"))
          throw new DOMException("timed out", "TimeoutError");
        return fetch(url, init);
      }) as typeof fetch,
    });
    const missing = await never.syncLeads([{ email: "never@x.com" }], {
      action: "createDuplicate",
    });
    assert.equal(missing.results[0]?.status, "unknown");
    assert.match(missing.results[0]?.reasons[0]?.message ?? "", /Not resent/);
  });

  test("Push Lead: unknown, never resent (each push writes a Push Lead activity)", async () => {
    const r = await open();
    const client = r.make({
      fetch: losesFirstAnswer(
        (url, method) => method === "POST" && url.endsWith("/leads/push.json"),
      ),
    });
    const result = await client.pushLeads([{ email: "pushed@x.com" }], {
      programName: "2026 Q3 Product Webinar",
    });
    assert.equal(result.results[0]?.status, "unknown");
    assert.equal(result.results[0]?.reasons[0]?.code, "verify");
    const pushes = restCalls(r.sb).filter((c) => c.path === "/rest/v1/leads/push.json");
    assert.equal(pushes.length, 1, "not replayed");
  });

  test("custom activities: unknown, never resent (activities are write-once)", async () => {
    const r = await open();
    const created = await r.client.syncLeads([{ email: "act@x.com" }]);
    const leadId = created.results[0]?.id as number;
    const client = r.make({
      fetch: losesFirstAnswer((url) => url.includes("/activities/external.json")),
    });
    const result = await client.addCustomActivities([
      {
        leadId,
        activityDate: "2026-07-01T10:00:00Z",
        activityTypeId: 100001,
        primaryAttributeValue: "Booth 7",
        attributes: [],
      },
    ]);
    assert.equal(result.results[0]?.status, "unknown");
    assert.equal(restCalls(r.sb).filter((c) => c.path.includes("activities")).length, 1);
  });
});

describe("bodies that are not Marketo's envelope", () => {
  for (const [name, body, status] of [
    ["HTML", "<html><body>Service Unavailable</body></html>", 200],
    ["empty", "", 200],
    ["truncated JSON", '{"requestId":"a#1","succ', 200],
  ] as const) {
    test(`${name} with HTTP ${status} is a typed InvalidResponseError, retried, never a parse crash`, async () => {
      const r = await open();
      let served = 0;
      const fake = (async (url: string | URL | Request, init?: RequestInit) => {
        if (String(url).includes("/identity/")) return fetch(url, init);
        served++;
        return new Response(body, { status, headers: { "content-type": "text/html" } });
      }) as typeof fetch;
      const error = await r
        .make({ fetch: fake })
        .getListByName("x")
        .catch((e: unknown) => e);
      assert.ok(error instanceof InvalidResponseError, String(error));
      assert.equal(error.code, "invalid_response");
      assert.equal(served, 6);
    });
  }
  const open = rigsClosedAfter();
});
