import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { AccessTokenError } from "../src/errors.ts";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

type Script = (req: Seen) => { status?: number; body: unknown };

/** A tiny scripted Marketo: each request is answered by the script (octokit-style). */
function scripted() {
  const seen: Seen[] = [];
  let script: Script = () => ({ body: { success: true, result: [] } });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
      };
      seen.push(s);
      const answer = script(s);
      res.writeHead(answer.status ?? 200, { "content-type": "application/json" });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    });
  });
  return {
    seen,
    set(next: Script) {
      script = next;
      seen.length = 0;
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("edge cases against a scripted server", () => {
  const server = scripted();
  let url = "";
  before(async () => {
    url = await server.listen();
  });
  after(() => server.close());
  const client = () => {
    clearTokenCache();
    return new MarketoClient({
      baseUrl: url,
      clientId: "id",
      clientSecret: "s3cr3t-value",
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      gate: { windowMs: 1_000 },
    });
  };
  let tokens = 0;
  const identity = (expiresIn: number) => ({
    body: {
      access_token: `tok-${++tokens}:int`,
      token_type: "bearer",
      expires_in: expiresIn,
      scope: "x",
    },
  });

  test("expires_in 0: the token is used for the call at hand, one identity call per call, no spin", async () => {
    server.set((req) =>
      req.url.startsWith("/identity")
        ? identity(0)
        : { body: { success: true, requestId: "a#1", result: [{ id: 1, name: "L" }] } },
    );
    const c = client();
    for (let i = 0; i < 3; i++) assert.equal((await c.getListByName("L"))?.id, 1);
    assert.equal(server.seen.filter((s) => s.url.startsWith("/identity")).length, 3);
    assert.equal(server.seen.filter((s) => s.url.startsWith("/rest")).length, 3);
  });

  test("601: the request is rebuilt with the new token and a body serialized anew", async () => {
    let refused = false;
    server.set((req) => {
      if (req.url.startsWith("/identity")) return identity(3600);
      if (!refused) {
        refused = true;
        return {
          body: {
            success: false,
            requestId: "b#1",
            errors: [{ code: "601", message: "Access token invalid" }],
          },
        };
      }
      return { body: { success: true, requestId: "b#2", result: [{ id: 9, status: "created" }] } };
    });
    const result = await client().syncLeads([{ email: "a@b.c" }]);
    assert.equal(result.results[0]?.status, "created");
    const posts = server.seen.filter((s) => s.url.startsWith("/rest"));
    assert.equal(posts.length, 2);
    assert.notEqual(posts[0]?.authorization, posts[1]?.authorization);
    assert.match(posts[1]?.authorization ?? "", /^Bearer tok-\d+:int$/);
    assert.equal(posts[1]?.body, posts[0]?.body);
    assert.ok(!posts.some((p) => p.url.includes("access_token")));
  });

  test("601 again after the new token got through (a 606 between): the call re-authenticates again", async () => {
    // The token was revoked a second time while the call waited out the 606 window.
    const answers = ["601", "606", "601"];
    server.set((req) => {
      if (req.url.startsWith("/identity")) return identity(3600);
      const code = answers.shift();
      if (code !== undefined) {
        return {
          body: { success: false, requestId: `r#${code}`, errors: [{ code, message: code }] },
        };
      }
      return { body: { success: true, requestId: "r#ok", result: [{ id: 7, status: "created" }] } };
    });
    const result = await client().syncLeads([{ email: "a@b.c" }]);
    assert.equal(result.results[0]?.status, "created");
    assert.equal(server.seen.filter((s) => s.url.startsWith("/identity")).length, 3);
  });

  test("601 twice in a row, each time with a fresh token: no third token, the call fails", async () => {
    server.set((req) =>
      req.url.startsWith("/identity")
        ? identity(3600)
        : {
            body: {
              success: false,
              requestId: "d#1",
              errors: [{ code: "601", message: "Access token invalid" }],
            },
          },
    );
    const result = await client().syncLeads([{ email: "a@b.c" }]);
    assert.equal(result.results[0]?.status, "failed");
    assert.equal(server.seen.filter((s) => s.url.startsWith("/rest")).length, 2);
  });

  test("an error never carries a credential Marketo echoed back", async () => {
    server.set((req) =>
      req.url.startsWith("/identity")
        ? identity(3600)
        : {
            body: {
              success: false,
              requestId: "c#1",
              errors: [
                {
                  code: "603",
                  message: "Access denied for access_token=tok-echo and client_secret=s3cr3t-value",
                },
              ],
            },
          },
    );
    const error = await client()
      .getListByName("x")
      .catch((e: unknown) => e);
    assert.ok(error instanceof Error && !(error instanceof AccessTokenError));
    const dump = JSON.stringify({
      error,
      message: (error as Error).message,
      raw: (error as { raw?: unknown }).raw,
    });
    assert.ok(!dump.includes("tok-echo"), dump);
    assert.ok(!dump.includes("s3cr3t-value"), dump);
  });

  test("success:false without errors[] and a non-JSON identity answer are typed, not crashes", async () => {
    server.set((req) =>
      req.url.startsWith("/identity") ? { body: "<html>login</html>" } : { body: {} },
    );
    await assert.rejects(
      client().getListByName("x"),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === "invalid_response",
    );
  });
});
