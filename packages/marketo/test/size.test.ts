import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { leads, restCalls, rigsClosedAfter } from "./helpers.ts";

describe("requests that cannot fail for size", () => {
  const open = rigsClosedAfter();

  test("300 records are one call, 301 are two", async () => {
    const { sb, client } = await open();
    const first = await client.syncLeads(leads(300, "a"));
    assert.equal(first.counts.created, 300);
    assert.equal(restCalls(sb).length, 1);
    const second = await client.syncLeads(leads(301, "b"));
    assert.equal(second.counts.created, 301);
    assert.equal(second.results.length, 301);
    assert.equal(restCalls(sb).length, 3);
    assert.deepEqual(
      second.results.map((r) => r.index),
      [...Array(301).keys()],
    );
  });

  test("a body over 1 MB is cut by bytes before it is sent: no 413", async () => {
    const { sb, client } = await open({ customFields: [{ name: "notes", dataType: "text" }] });
    const big = leads(300, "big").map((l) => ({ ...l, notes: "n".repeat(10_000) }));
    const result = await client.syncLeads(big);
    assert.equal(result.counts.created, 300);
    assert.ok(restCalls(sb).length >= 4, "3 MB of leads in at least 4 calls");
    assert.deepEqual(
      restCalls(sb).filter((c) => c.code !== "200"),
      [],
    );
  });

  test("a 413 anyway splits the batch and retries the parts", async () => {
    const { sb, make } = await open({ customFields: [{ name: "notes", dataType: "text" }] });
    // A client that believes in 2 MB bodies meets the sandbox's 1 MB limit.
    const client = make({ maxBodyBytes: 2_000_000 });
    const big = leads(150, "s").map((l) => ({ ...l, notes: "n".repeat(10_000) }));
    const result = await client.syncLeads(big);
    assert.equal(result.counts.created, 150);
    assert.deepEqual(
      result.results.map((r) => r.input.email),
      big.map((l) => l.email),
    );
    const codes = restCalls(sb).map((c) => c.code);
    assert.equal(codes[0], "413");
    assert.deepEqual(codes.slice(1), ["200", "200"]);
  });

  test("a single record too big for any body is reported, the rest are written", async () => {
    const { sb, client } = await open({ customFields: [{ name: "notes", dataType: "text" }] });
    const input = [
      { email: "ok1@x.com" },
      { email: "huge@x.com", notes: "h".repeat(1_100_000) },
      { email: "ok2@x.com" },
    ];
    const result = await client.syncLeads(input);
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["created", "failed", "created"],
    );
    assert.equal(result.results[1]?.reasons[0]?.code, "413");
    assert.equal(restCalls(sb).length, 1);
  });

  test("a GET whose URI would pass 8 KiB goes as POST _method=GET, decided by length", async () => {
    const { sb, client, events } = await open();
    const many = leads(300, "a-rather-long-local-part-for-the-uri-test-");
    await client.syncLeads(many);
    const found: unknown[] = [];
    for await (const page of client.getLeadsByFilter({
      filterType: "email",
      filterValues: many.map((l) => l.email),
    })) {
      found.push(...page);
    }
    assert.equal(found.length, 300);
    const reads = restCalls(sb).slice(1);
    assert.ok(
      reads.every((c) => c.method === "POST" && c.code === "200"),
      JSON.stringify(reads),
    );
    assert.ok(events.some((e) => e.type === "request" && e.url.includes("_method=GET")));
    // a short query stays a GET
    for await (const _ of client.getLeadsByFilter({
      filterType: "email",
      filterValues: ["a-rather-long-local-part-for-the-uri-test-0@example.com"],
    })) {
      // drain
    }
    assert.equal(restCalls(sb).at(-1)?.method, "GET");
  });

  test("a 414 anyway is retried as POST _method=GET", async () => {
    const { sb, make } = await open();
    const client = make({ maxUriLength: 1_000_000 });
    const many = leads(300, "a-rather-long-local-part-for-the-uri-test-");
    await client.syncLeads(many);
    let n = 0;
    for await (const page of client.getLeadsByFilter({
      filterType: "email",
      filterValues: many.map((l) => l.email),
    })) {
      n += page.length;
    }
    assert.equal(n, 300);
    const reads = restCalls(sb).slice(1);
    assert.equal(reads[0]?.code, "414");
    assert.equal(reads[0]?.method, "GET");
    assert.equal(reads[1]?.method, "POST");
    assert.equal(reads[1]?.code, "200");
  });

  test("604 on a batch write bisects down to the floor, then reports", async () => {
    const { sb, client } = await open();
    sb.faults.add({ code: "604", endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    const result = await client.syncLeads(leads(300, "t"));
    assert.equal(result.counts.created, 300);
    const codes = restCalls(sb).map((c) => c.code);
    assert.deepEqual(codes, ["604", "200", "200"], "bisected once into two halves of 150");

    // A batch that times out whatever its size: halves down to the floor (25), then retries with
    // backoff and reports every record failed with 604.
    sb.faults.add({ code: "604", endpoint: "/rest/v1/leads.json", method: "POST" });
    const before = restCalls(sb).length;
    const stuck = await client.syncLeads(leads(100, "u"));
    assert.equal(stuck.counts.failed, 100);
    assert.equal(stuck.results[0]?.reasons[0]?.code, "604");
    assert.equal(stuck.results[0]?.reasons[0]?.entry?.code, "604");
    const calls = restCalls(sb).length - before;
    // 100 → 2×50 → 4×25 (7 calls), then each 25 gets maxAttempts (6): 7 - 4 + 24 = 27
    assert.equal(calls, 27);
  });
});
