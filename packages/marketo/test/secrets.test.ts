import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { leads, rigsClosedAfter } from "./helpers.ts";

/** Everything an error carries, `cause` chain and non-enumerable members included. */
function dump(value: unknown, depth = 0): unknown {
  if (depth > 6) return "…";
  if (value instanceof Error) {
    const own: Record<string, unknown> = {};
    for (const key of Object.getOwnPropertyNames(value)) {
      own[key] = dump((value as unknown as Record<string, unknown>)[key], depth + 1);
    }
    for (const key of ["raw", "request", "errors", "code", "status", "requestId"]) {
      if (key in value)
        own[key] = dump((value as unknown as Record<string, unknown>)[key], depth + 1);
    }
    own.string = String(value);
    return own;
  }
  if (Array.isArray(value)) return value.map((v) => dump(v, depth + 1));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = dump(v, depth + 1);
    return out;
  }
  return value;
}

function occurrences(haystack: string, needles: readonly string[]): string[] {
  return needles.filter((n) => haystack.includes(n));
}

describe("credentials never leave the process", () => {
  const open = rigsClosedAfter();

  test("no log line, event, result or thrown error holds the secret or any issued token", async () => {
    const r = await open();
    const tokens = new Set<string>();
    // Learns every token the sandbox hands out, straight off the identity answers.
    const spy = (async (url: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(url, init);
      if (String(url).includes("/identity/")) {
        const body = (await response.clone().json()) as { access_token?: string };
        if (body.access_token) tokens.add(body.access_token);
      }
      return response;
    }) as typeof fetch;
    const client = r.make({ fetch: spy, timeouts: { getListByName: 200 } });
    const seen: unknown[] = [];
    const attempt = async (run: () => Promise<unknown>) => {
      try {
        seen.push(await run());
      } catch (error) {
        seen.push(error);
      }
    };

    await attempt(() => client.syncLeads(leads(3, "sec")));
    r.sb.revokeTokens(); // 601, refresh
    await attempt(() => client.getListByName("Newsletter Subscribers"));
    r.sb.clock.advance(3_700_000); // 602, refresh
    await attempt(() => client.syncLeads(leads(2, "sec2")));
    r.sb.faults.add({ code: "601", endpoint: "/rest/v1/lists.json", count: 2 });
    await attempt(() => client.getListByName("x")); // 601 that persists: thrown
    r.sb.faults.add({ code: "502", endpoint: "/rest/v1/lists.json" });
    await attempt(() => client.getListByName("x")); // HTML 502 every time: thrown
    await attempt(() => client.syncLeads(leads(2, "sec3"))); // still fine
    r.sb.faults.clear();
    r.sb.faults.add({ code: "502", endpoint: "/rest/v1/leads.json", method: "POST" });
    await attempt(() => client.syncLeads(leads(2, "sec4"))); // 502 in per-record results
    r.sb.faults.clear();
    r.sb.faults.add({ code: "reset", endpoint: "/rest/v1/lists.json" });
    await attempt(() => client.getListByName("x")); // connection reset
    r.sb.faults.clear();
    r.sb.faults.add({ code: "slow", endpoint: "/rest/v1/lists.json", delayMs: 1_000 });
    await attempt(() => client.getListByName("x")); // timeout
    r.sb.faults.clear();
    await attempt(() => r.make({ clientSecret: `${r.sb.clientSecret}-wrong` }).usage()); // 401

    const thrown = seen.filter((s) => s instanceof Error);
    assert.ok(thrown.length >= 5, `${thrown.length} errors thrown`);
    assert.ok(tokens.size >= 3, `${tokens.size} tokens issued`);
    const codes = new Set(r.events.flatMap((e) => ("code" in e ? [e.code] : [])));
    for (const code of ["601", "602", "502", "network", "timeout", "401"]) {
      assert.ok(codes.has(code), `the run covers ${code}: ${[...codes]}`);
    }

    const everything = JSON.stringify([r.events, r.logs, dump(seen)]);
    const secrets = [r.sb.clientSecret, ...tokens];
    assert.deepEqual(occurrences(everything, secrets), []);
  });

  test("a token or secret echoed bare in an error body is removed from the error", async () => {
    clearTokenCache();
    const token = "f6e5d4c3-b2a1-4f00-8e00-123456789abc:ab";
    const secret = "s3cr3t-value-that-is-long-enough";
    const server = createServer((req, res) => {
      if (req.url?.startsWith("/identity/")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: token, expires_in: 3599 }));
        return;
      }
      // A gateway page that quotes what it was sent, bare.
      res.writeHead(502, { "content-type": "text/html" });
      res.end(`<html><body>Bad gateway for token ${token} (client ${secret})</body></html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const lines: string[] = [];
      const events: unknown[] = [];
      const log = (line: string, data?: Record<string, unknown>) =>
        lines.push(`${line} ${JSON.stringify(data ?? {})}`);
      const client = new MarketoClient({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        clientId: "id",
        clientSecret: secret,
        retry: { maxAttempts: 2, baseDelayMs: 1 },
        logger: { debug: log, info: log, warn: log, error: log },
        onEvent: (e) => events.push(e),
      });
      const error = await client.getListByName("x").catch((e: unknown) => e);
      const result = await client.syncLeads(leads(1, "echo"));
      assert.equal(result.results[0]?.status, "failed");
      const everything = JSON.stringify([dump(error), dump(result), lines, events]);
      assert.match(everything, /Bad gateway for token/, "the body is kept, redacted");
      assert.deepEqual(occurrences(everything, [token, secret]), []);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
