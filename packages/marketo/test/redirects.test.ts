import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { HttpLevelError } from "../src/errors.ts";
import type { MarketoClientOptions } from "../src/options.ts";
import { identityCalls, rigsClosedAfter } from "./helpers.ts";
import { type HostileServer, hostileServer, json, token } from "./hostile-server.ts";

const SECRET = "s3cr3t-hostile-0123456789";
const TOKEN = "tok-hostile-4f00-8e00:int";

describe("redirects from a Marketo host are never followed", () => {
  let marketo: HostileServer;
  let other: HostileServer;
  const logs: string[] = [];
  before(async () => {
    marketo = await hostileServer();
    other = await hostileServer();
    // The other host answers as a Marketo would, so a followed redirect would look like success.
    other.answer((req, res) =>
      req.url.startsWith("/identity")
        ? token(res, "tok-other:int")
        : json(res, {
            requestId: "other#1",
            success: true,
            result: [{ id: 1, status: "created" }],
          }),
    );
  });
  after(() => Promise.all([marketo.close(), other.close()]));

  const client = (more: Partial<MarketoClientOptions> = {}) => {
    clearTokenCache();
    logs.length = 0;
    const log = (line: string, data?: Record<string, unknown>) =>
      logs.push(`${line} ${JSON.stringify(data ?? {})}`);
    return new MarketoClient({
      baseUrl: marketo.url,
      clientId: "id",
      clientSecret: SECRET,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      gate: { windowMs: 1_000 },
      logger: { debug: log, info: log, warn: log, error: log },
      ...more,
    });
  };

  test("a 307 on a write: the other host receives nothing; the records fail with an HttpLevelError naming the Location, redacted", async () => {
    const target = `${other.url}/rest/v1/leads.json`;
    marketo.answer((req, res) => {
      if (req.url.startsWith("/identity")) return token(res, TOKEN);
      res
        .writeHead(307, {
          location: `${target}?access_token=${TOKEN}&client_secret=${SECRET}&echo=${SECRET}`,
        })
        .end();
    });
    other.answer((_req, res) =>
      json(res, {
        requestId: "other#1",
        success: true,
        result: [
          { id: 1, status: "created" },
          { id: 2, status: "created" },
        ],
      }),
    );
    const result = await client().syncLeads([
      { email: "a@example.com" },
      { email: "b@example.com" },
    ]);

    assert.deepEqual(other.received, [], "nothing reached the other host");
    assert.equal(marketo.received.filter((r) => r.url.startsWith("/rest")).length, 1, "no retry");
    assert.deepEqual(result.counts, { created: 0, updated: 0, skipped: 0, failed: 2, unknown: 0 });
    const error = result.results[0]?.error;
    assert.ok(error instanceof HttpLevelError, `${error?.name}`);
    assert.equal(error.code, "307");
    assert.equal(error.status, 307);
    assert.equal(error.recovery, "none");
    assert.equal(error.entry?.level, "http", "the catalog explains the redirect");
    assert.ok(error.message.includes(target), error.message);
    assert.ok(error.raw?.headers.location?.startsWith(target));
    const everything = JSON.stringify([error.message, error.raw, result.results[0]?.reasons, logs]);
    assert.ok(!everything.includes(SECRET), "the client secret is nowhere");
    assert.ok(!everything.includes(TOKEN), "the access token is nowhere");
    assert.ok(
      logs.some((line) => line.includes(target)),
      `the log names where the redirect pointed: ${logs.join("\n")}`,
    );
  });

  for (const status of [301, 302, 303, 307, 308]) {
    test(`a ${status} on the identity call: the other host never sees the secret`, async () => {
      marketo.answer((req, res) => {
        // A host moved elsewhere keeps path and query, as a real misconfigured redirect does.
        res.writeHead(status, { location: `${other.url}${req.url}` }).end();
      });
      other.answer((_req, res) => token(res, "tok-other:int"));
      await assert.rejects(client().getListByName("x"), (error: unknown) => {
        assert.ok(error instanceof HttpLevelError, String(error));
        assert.equal(error.code, String(status));
        assert.ok(!JSON.stringify([error.message, error.raw, error.request]).includes(SECRET));
        return true;
      });
      assert.deepEqual(other.received, [], "nothing reached the other host");
      assert.equal(marketo.received.length, 1, "the identity call is not retried");
      assert.ok(!JSON.stringify(logs).includes(SECRET));
    });
  }

  test("a 302 on a bulk file download fails the download instead of reading another host's file", async () => {
    marketo.answer((req, res) => {
      if (req.url.startsWith("/identity")) return token(res, TOKEN);
      if (req.url.startsWith("/bulk/v1/leads.json")) {
        return json(res, {
          requestId: "m#1",
          success: true,
          result: [{ batchId: 7, status: "Queued" }],
        });
      }
      if (req.url.startsWith("/bulk/v1/leads/batch/7.json")) {
        return json(res, {
          requestId: "m#2",
          success: true,
          result: [
            {
              batchId: 7,
              status: "Complete",
              numOfLeadsProcessed: 0,
              numOfRowsFailed: 1,
              numOfRowsWithWarning: 0,
            },
          ],
        });
      }
      res.writeHead(302, { location: `${other.url}${req.url}` }).end();
    });
    other.answer((_req, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.end("email,Import Failure Reason\na@example.com,forged\n");
    });
    const job = await client().importLeads([{ email: "a@example.com" }]);
    await assert.rejects(job.wait({ pollIntervalMs: 1 }), (error: unknown) => {
      assert.ok(error instanceof HttpLevelError, String(error));
      assert.equal(error.code, "302");
      return true;
    });
    assert.deepEqual(other.received, []);
  });
});

describe("the identity request", () => {
  let marketo: HostileServer;
  before(async () => {
    marketo = await hostileServer();
  });
  after(() => marketo.close());

  test("is a form-encoded POST to the base URL's origin, the secret only in its body", async () => {
    marketo.answer((req, res) =>
      req.url.startsWith("/identity")
        ? token(res)
        : json(res, { requestId: "m#1", success: true, result: [] }),
    );
    clearTokenCache();
    // A base URL with /rest and a query: the identity URL drops both.
    const client = new MarketoClient({
      baseUrl: `${marketo.url}/rest?client_secret=oops`,
      clientId: "the-id",
      clientSecret: SECRET,
    });
    await client.getListByName("x");
    const identity = marketo.received[0];
    assert.ok(identity);
    assert.equal(identity.method, "POST");
    assert.equal(identity.url, "/identity/oauth/token");
    assert.match(identity.headers["content-type"] ?? "", /^application\/x-www-form-urlencoded/);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(identity.body)), {
      grant_type: "client_credentials",
      client_id: "the-id",
      client_secret: SECRET,
    });
    for (const req of marketo.received.slice(1)) {
      assert.ok(!req.url.includes(SECRET) && !req.body.includes(SECRET), req.url);
    }
  });

  test("keeps the base URL's path (an instance under a prefix), never its query", async () => {
    marketo.answer((req, res) =>
      req.url.includes("/identity/")
        ? token(res)
        : json(res, { requestId: "m#1", success: true, result: [] }),
    );
    clearTokenCache();
    const client = new MarketoClient({
      baseUrl: `${marketo.url}/i/0007/rest?client_secret=oops`,
      clientId: "the-id",
      clientSecret: SECRET,
    });
    await client.getListByName("x");
    assert.deepEqual(
      marketo.received.map((r) => [r.method, r.url.split("?")[0]]),
      [
        ["POST", "/i/0007/identity/oauth/token"],
        ["GET", "/i/0007/rest/v1/lists.json"],
      ],
    );
    assert.ok(marketo.received.every((r) => !r.url.includes(SECRET)));
  });

  test("stays on the base URL's origin when its path names another host", async () => {
    const other = await hostileServer();
    try {
      other.answer((_req, res) => token(res, "tok-other:int"));
      marketo.answer((req, res) =>
        req.url.includes("/identity/")
          ? token(res)
          : json(res, { requestId: "m#1", success: true, result: [] }),
      );
      const otherHost = new URL(other.url).host;
      for (const path of [`//${otherHost}`, `/\\${otherHost}`, `/..//${otherHost}`]) {
        clearTokenCache();
        const client = new MarketoClient({
          baseUrl: `${marketo.url}${path}/rest`,
          clientId: "the-id",
          clientSecret: SECRET,
        });
        await client.getListByName("x");
        assert.equal(marketo.received.at(-2)?.method, "POST", path);
        assert.match(marketo.received.at(-2)?.url ?? "", /\/identity\/oauth\/token$/, path);
      }
      assert.deepEqual(other.received, [], "the other host never hears of the secret");
    } finally {
      await other.close();
    }
  });

  describe("against the sandbox", () => {
    const open = rigsClosedAfter();
    test("the sandbox accepts the form-encoded POST and the client authenticates with it", async () => {
      const { sb, client } = await open();
      const list = await client.getListByName("Newsletter Subscribers");
      assert.equal(list?.name, "Newsletter Subscribers");
      assert.deepEqual(
        identityCalls(sb).map((c) => [c.method, c.code]),
        [["POST", "200"]],
      );
    });
  });
});
