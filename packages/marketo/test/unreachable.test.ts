import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { NetworkError, TimeoutError, UnreachableError } from "../src/errors.ts";
import type { MarketoClientOptions } from "../src/options.ts";
import { mayHaveExecuted } from "../src/transport.ts";

/** A port on 127.0.0.1 that nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fetch that fails as undici does when the connection fails with this socket code. */
function failingWith(code: string): typeof fetch {
  return (async () => {
    throw new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) });
  }) as typeof fetch;
}

/** A fetch whose identity endpoint answers 503 and which counts the calls that got past it. */
function identityDown(): { fetch: typeof fetch; writes: string[] } {
  const writes: string[] = [];
  const fake = (async (url: string | URL | Request) => {
    const path = new URL(String(url)).pathname;
    if (path.startsWith("/identity/")) return new Response("<html>down</html>", { status: 503 });
    writes.push(path);
    return Response.json({ success: true, result: [] });
  }) as typeof fetch;
  return { fetch: fake, writes };
}

function client(baseUrl: string, more: Partial<MarketoClientOptions> = {}): MarketoClient {
  clearTokenCache();
  return new MarketoClient({
    baseUrl,
    clientId: "id",
    clientSecret: "secret",
    // Two tries, no backoff to speak of: the outcome, not the waiting, is under test.
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    ...more,
  });
}

const LEADS = [{ email: "a@example.com" }, { email: "b@example.com" }];

describe("an unreachable instance: nothing was sent, so nothing is uncertain", () => {
  test("a closed port (connection refused): each record failed with UnreachableError naming host and port", async () => {
    const port = await closedPort();
    const result = await client(`http://127.0.0.1:${port}`).syncLeads(LEADS, {
      action: "createOnly",
    });
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["failed", "failed"],
    );
    const error = result.results[0]?.error;
    assert.ok(error instanceof UnreachableError, String(error));
    assert.ok(error instanceof NetworkError, "still a network failure, retried with backoff");
    assert.equal(error.code, "unreachable");
    assert.equal(error.host, `127.0.0.1:${port}`);
    assert.equal(error.reason, "ECONNREFUSED");
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /refused/);
    assert.equal(mayHaveExecuted(error), false);
  });

  test("a port fetch refuses to connect to (9, 'bad port'): failed, not unknown, and says so", async () => {
    const result = await client("http://127.0.0.1:9").syncLeads(LEADS, { action: "createOnly" });
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["failed", "failed"],
    );
    const error = result.results[0]?.error;
    assert.ok(error instanceof UnreachableError, String(error));
    assert.equal(error.reason, "bad_port");
    assert.equal(error.host, "127.0.0.1:9");
    assert.match(error.message, /port 9/);
    assert.doesNotMatch(error.message, /unknown/);
    assert.equal(mayHaveExecuted(error), false);
  });

  // A scripted fetch: these must not depend on the machine's resolver or routes.
  for (const code of [
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "UND_ERR_CONNECT_TIMEOUT",
  ]) {
    test(`${code}: UnreachableError, never executed`, async () => {
      const result = await client("https://marketo.invalid", {
        fetch: failingWith(code),
      }).syncLeads(LEADS, { action: "createOnly" });
      const error = result.results[0]?.error;
      assert.equal(result.results[0]?.status, "failed");
      assert.ok(error instanceof UnreachableError, String(error));
      assert.equal(error.reason, code);
      assert.equal(error.host, "marketo.invalid:443");
      assert.equal(mayHaveExecuted(error), false);
    });
  }

  test("a connection reset of the write is not unreachable: the request may have arrived", async () => {
    const reset = failingWith("ECONNRESET");
    const fetchToken = (async (url: string | URL | Request, init?: RequestInit) =>
      new URL(String(url)).pathname.startsWith("/identity/")
        ? Response.json({ access_token: "t", expires_in: 3600 })
        : reset(url, init)) as typeof fetch;
    const result = await client("https://marketo.invalid", { fetch: fetchToken }).syncLeads(LEADS);
    const error = result.results[0]?.error;
    assert.ok(error instanceof NetworkError, String(error));
    assert.ok(!(error instanceof UnreachableError));
    assert.equal(mayHaveExecuted(error), true);
  });

  test("the token request failing (identity 503) before the write: failed, never unknown, no write sent", async () => {
    const down = identityDown();
    const result = await client("https://marketo.invalid", { fetch: down.fetch }).syncLeads(LEADS, {
      action: "createOnly",
    });
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["failed", "failed"],
    );
    assert.deepEqual(down.writes, [], "no lead call, no lookup");
    const error = result.results[0]?.error;
    assert.equal(error?.code, "503");
    assert.equal(error?.request?.endpoint, "identity");
    assert.equal(mayHaveExecuted(error), false, "the write never left");
  });

  test("a timeout of the write itself may still have executed", () => {
    const error = new TimeoutError({
      code: "timeout",
      message: "No answer",
      request: { method: "POST", url: "https://x/rest/v1/leads.json", endpoint: "syncLeads" },
    });
    assert.equal(mayHaveExecuted(error), true);
  });
});
