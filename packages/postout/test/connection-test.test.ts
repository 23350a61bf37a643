import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { testConnection } from "../src/connection-test.ts";

const SECRET = "conn-secret-Qw7-do-not-leak";

/** A plain local HTTP server answering every request with `status` and `body`. */
async function plainServer(status: number, body: string, type: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": type });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** A port nothing listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("test connection (against the sandbox over HTTP)", () => {
  let sb: Sandbox;
  let html: Server;
  let notFound: Server;
  const reports: string[] = [];
  const run = async (options: Parameters<typeof testConnection>[0]) => {
    const report = await testConnection(options);
    reports.push(JSON.stringify(report));
    return report;
  };
  before(async () => {
    sb = await startSandbox({ latency: false, clientSecret: SECRET });
    html = await plainServer(200, "<!doctype html><html><body>Welcome</body></html>", "text/html");
    notFound = await plainServer(404, "<html>Not Found</html>", "text/html");
  });
  after(async () => {
    await sb.close();
    html.close();
    notFound.close();
    // Whatever the outcome, no report carries the secret.
    for (const r of reports) assert.doesNotMatch(r, new RegExp(SECRET));
  });

  it("succeeds: counts the lead fields and reads today's quota used", async () => {
    const report = await run({ baseUrl: sb.url, clientId: sb.clientId, clientSecret: SECRET });
    assert.equal(report.ok, true);
    assert.ok(report.ok && report.leadFields > 10);
    assert.ok(report.ok && typeof report.quotaUsedToday === "number");
    assert.match(report.message, /connected to 127\.0\.0\.1:\d+: a token, and \d+ lead fields/);
  });

  it("bad credentials: a wrong secret", async () => {
    const report = await run({ baseUrl: sb.url, clientId: sb.clientId, clientSecret: "wrong" });
    assert.deepEqual(
      [report.ok, !report.ok && report.problem, !report.ok && report.code],
      [false, "bad-credentials", "401"],
    );
    assert.match(report.message, /refused the client id or client secret/);
  });

  it("access denied: the API user may not read leads (603)", async () => {
    sb.faults.add({ code: "603", endpoint: "/rest/v1/leads/describe2.json", count: 1 });
    const report = await run({ baseUrl: sb.url, clientId: sb.clientId, clientSecret: SECRET });
    assert.equal(!report.ok && report.problem, "access-denied");
    assert.match(report.message, /may not read leads \(603/);
  });

  it("unreachable: a closed port, naming host and port", async () => {
    const port = await closedPort();
    const report = await run({
      baseUrl: `http://127.0.0.1:${port}`,
      clientId: "x",
      clientSecret: SECRET,
    });
    assert.equal(!report.ok && report.problem, "unreachable");
    assert.equal(!report.ok && report.code, "ECONNREFUSED");
    assert.match(report.message, new RegExp(`127\\.0\\.0\\.1:${port} refused the connection`));
  });

  it("unreachable: a port fetch refuses to connect to (9), said so instead of 'unknown'", async () => {
    const report = await run({
      baseUrl: "http://127.0.0.1:9",
      clientId: "x",
      clientSecret: SECRET,
    });
    assert.equal(!report.ok && report.problem, "unreachable");
    assert.equal(!report.ok && report.code, "bad_port");
    assert.match(
      report.message,
      /127\.0\.0\.1:9 cannot be reached: fetch refuses to connect to that port/,
    );
  });

  it("not Marketo: a server that answers HTML", async () => {
    const report = await run({ baseUrl: urlOf(html), clientId: "x", clientSecret: SECRET });
    assert.equal(!report.ok && report.problem, "not-marketo");
    assert.match(report.message, /not as Marketo does/);
  });

  it("not Marketo: 404 at the identity path", async () => {
    const report = await run({ baseUrl: urlOf(notFound), clientId: "x", clientSecret: SECRET });
    assert.equal(!report.ok && report.problem, "not-marketo");
    assert.match(report.message, /HTTP 404 at \/identity\/oauth\/token/);
  });

  it("not Marketo: a URL that is not http(s), or no URL at all, without a call", async () => {
    for (const baseUrl of ["ftp://example.com", "example dot com"]) {
      const report = await run({ baseUrl, clientId: "x", clientSecret: SECRET });
      assert.equal(!report.ok && report.problem, "not-marketo");
      assert.match(report.message, /123-ABC-456\.mktorest\.com/);
    }
  });
});
