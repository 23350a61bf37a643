import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { API_KEY, openApi, SYNC_ROUTE } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

/** Distinctive, so that a leak anywhere is found by a plain search. */
const SECRET = "acme-Secret-9xQ4-never-shown";
const WRONG = "acme-Wrong-7kP2-never-shown";

describe("destinations at runtime (HTTP API, in process)", () => {
  let api: Api;
  let acme: Sandbox;
  let html: Server;
  const logs: string[] = [];
  const body = (over: Record<string, unknown> = {}) => ({
    name: "acme",
    baseUrl: acme.url,
    clientId: acme.clientId,
    clientSecret: SECRET,
    callsPer20s: 50,
    dailyBudget: 20_000,
    ...over,
  });
  const post = (destination: string, n: number, from = 0) =>
    api.call("POST", "/v1/leads", {
      destination,
      route: SYNC_ROUTE,
      leads: Array.from({ length: n }, (_, i) => ({ email: `acme${from + i}@example.com` })),
    });
  const acmeLeads = async () => (await acme.state()).leads as number;

  before(async () => {
    acme = await startSandbox({ latency: false, clientSecret: SECRET, clientId: "acme-client" });
    html = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>hello</body></html>");
    });
    await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve));
    api = await openApi({ log: (line) => logs.push(line) });
  });
  after(async () => {
    await api.close();
    await acme.close();
    html.close();
    // Every answer of this suite (bodies and headers) and every log line: never the secret.
    assert.ok(api.responses.length > 40);
    for (const text of [...api.responses, ...logs]) {
      assert.doesNotMatch(text, new RegExp(`${SECRET}|${WRONG}`));
    }
  });

  it("creates a destination: 201 with its settings and source, never its secret; listed beside the config's", async () => {
    const res = await api.call("POST", "/v1/destinations", body());
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.name, "acme");
    assert.equal(res.json.source, "api");
    assert.equal(res.json.baseUrl, acme.url);
    assert.equal(res.json.clientId, "acme-client");
    assert.deepEqual(res.json.limits, { callsPer20s: 50, concurrency: null });
    assert.equal(res.json.dailyBudget, 20_000);
    assert.match(res.json.createdAt, /^\d{4}-/);
    assert.equal("clientSecret" in res.json, false);

    const list = await api.call("GET", "/v1/destinations");
    assert.deepEqual(
      list.json.destinations.map((d: { name: string; source: string }) => [d.name, d.source]),
      [
        ["sandbox", "config"],
        ["acme", "api"],
      ],
    );
    const one = await api.call("GET", "/v1/destinations/acme");
    assert.equal(one.status, 200);
    assert.equal(one.json.source, "api");
  });

  it("sends to it at once: leads posted to it reach its Marketo", async () => {
    const before = await acmeLeads();
    assert.equal((await post("acme", 3)).status, 202);
    await api.gateway.destination("acme").dispatcher.drain();
    assert.equal(await acmeLeads(), before + 3);
  });

  it("refuses bad input naming the field", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [body({ name: "bad-url", baseUrl: "not a url" }), "baseUrl", /http\(s\) URL/],
      [body({ name: "ftp", baseUrl: "ftp://example.com" }), "baseUrl", /http\(s\) URL/],
      [body({ name: "neg", dailyBudget: -5 }), "dailyBudget", /at least 1/],
      [body({ name: "fast", callsPer20s: 101 }), "callsPer20s", /at most 100/],
      [body({ name: "wide", concurrency: 11 }), "concurrency", /at most 10/],
      [body({ name: "no secret", clientSecret: undefined }), "name", /letters, digits/],
      [{ ...body({ name: "nosecret" }), clientSecret: undefined }, "clientSecret", /./],
      [body({ name: "extra", password: "x" }), "body", /password/],
    ];
    for (const [input, path, message] of cases) {
      const res = await api.call("POST", "/v1/destinations", input);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      const issue = res.json.issues.find((i: { path: string }) => i.path === path);
      assert.ok(issue, `${path} named in ${res.text}`);
      assert.match(issue.message, message);
    }
    const patch = await api.call("PATCH", "/v1/destinations/acme", { callsPer20s: 500 });
    assert.equal(patch.status, 400);
    assert.equal(patch.json.issues[0].path, "callsPer20s");
  });

  it("refuses a name taken (409), by the catalog or by the config", async () => {
    const again = await api.call("POST", "/v1/destinations", body());
    assert.equal(again.status, 409);
    assert.match(again.json.error, /"acme" exists already/);
    const config = await api.call("POST", "/v1/destinations", body({ name: "sandbox" }));
    assert.equal(config.status, 409);
    assert.match(config.json.error, /config file or the environment/);
  });

  it("keeps config destinations read-only, and answers 404 for unknown ones", async () => {
    const res = await api.call("PATCH", "/v1/destinations/sandbox", { clientId: "x" });
    assert.equal(res.status, 409);
    assert.match(res.json.error, /edit the file/);
    const del = await api.call("DELETE", "/v1/destinations/sandbox");
    assert.equal(del.status, 409);
    for (const [method, path, input] of [
      ["GET", "/v1/destinations/nowhere", undefined],
      ["PATCH", "/v1/destinations/nowhere", { clientId: "x" }],
      ["DELETE", "/v1/destinations/nowhere", undefined],
      ["POST", "/v1/destinations/nowhere/test", undefined],
    ] as const) {
      const r = await api.call(method, path, input);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      assert.match(r.json.error, /no destination named "nowhere"/);
    }
  });

  it("edits: new credentials take effect at once (a new client); a secret left out is kept", async () => {
    const client = api.gateway.destination("acme").client;
    const wrong = await api.call("PATCH", "/v1/destinations/acme", { clientSecret: WRONG });
    assert.equal(wrong.status, 200, wrong.text);
    assert.notEqual(api.gateway.destination("acme").client, client, "the client was rebuilt");
    const bad = await api.call("POST", "/v1/destinations/acme/test");
    assert.equal(bad.json.problem, "bad-credentials");

    const limits = await api.call("PATCH", "/v1/destinations/acme", { callsPer20s: 20 });
    assert.deepEqual(limits.json.limits, { callsPer20s: 20, concurrency: null });
    assert.equal(
      (await api.call("POST", "/v1/destinations/acme/test")).json.problem,
      "bad-credentials",
    );

    await api.call("PATCH", "/v1/destinations/acme", { clientSecret: SECRET, dailyBudget: null });
    const good = await api.call("POST", "/v1/destinations/acme/test");
    assert.equal(good.json.ok, true, good.text);
    assert.ok(good.json.leadFields > 10);
    assert.equal((await api.call("GET", "/v1/destinations/acme")).json.dailyBudget, null);
  });

  it("tests a draft: bad credentials, unreachable, not Marketo, access denied, success", async () => {
    const draft = (over: Record<string, unknown>) =>
      api.call("POST", "/v1/destinations/test", { ...body(), name: undefined, ...over });
    assert.equal((await draft({ clientSecret: WRONG })).json.problem, "bad-credentials");
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const down = await draft({ baseUrl: `http://127.0.0.1:${port}` });
    assert.equal(down.json.problem, "unreachable");
    assert.match(down.json.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    const page = await draft({
      baseUrl: `http://127.0.0.1:${(html.address() as AddressInfo).port}`,
    });
    assert.equal(page.json.problem, "not-marketo");
    acme.faults.add({ code: "603", endpoint: "/rest/v1/leads/describe2.json", count: 1 });
    assert.equal((await draft({})).json.problem, "access-denied");
    const ok = await draft({});
    assert.equal(ok.status, 200);
    assert.equal(ok.json.ok, true);
    assert.equal((await draft({ baseUrl: "nope" })).status, 400);
  });

  it("removes: refuses while leads wait (409 with the count and both choices); waiting=pause holds them; re-creating sends them", async () => {
    const before = await acmeLeads();
    assert.equal((await post("acme", 2, 100)).status, 202);
    const refused = await api.call("DELETE", "/v1/destinations/acme");
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.total, 2);
    assert.equal(refused.json.waiting.queued, 2);
    assert.match(refused.json.error, /2 lead\(s\) waiting \(2 queued\)/);
    assert.match(refused.json.choices.pause, /waiting=pause/);
    assert.equal((await api.call("GET", "/v1/destinations/acme")).status, 200, "still there");

    const removed = await api.call("DELETE", "/v1/destinations/acme?waiting=pause");
    assert.deepEqual(removed.json, { removed: "acme", held: 2 });
    assert.equal((await api.call("GET", "/v1/destinations/acme")).status, 404);
    assert.equal((await post("acme", 1, 200)).status, 400, "no intake for a removed destination");
    assert.equal((await api.store.countByStatus({ destination: "acme" })).paused, 2);
    assert.equal(await acmeLeads(), before, "nothing was sent");

    const again = await api.call("POST", "/v1/destinations", body());
    assert.equal(again.status, 201);
    await api.gateway.destination("acme").dispatcher.drain();
    assert.equal((await api.store.countByStatus({ destination: "acme" })).delivered, 5);
    assert.equal(await acmeLeads(), before + 2);
  });

  it("removes a destination without leads waiting at once", async () => {
    await api.call("POST", "/v1/destinations", body({ name: "empty" }));
    const res = await api.call("DELETE", "/v1/destinations/empty");
    assert.deepEqual([res.status, res.json], [200, { removed: "empty", held: 0 }]);
  });

  it("documents every route in the OpenAPI document", async () => {
    const doc = await api.call("GET", "/v1/openapi.json");
    const paths = doc.json.paths;
    assert.deepEqual(Object.keys(paths["/v1/destinations"]).sort(), ["get", "post"]);
    assert.deepEqual(Object.keys(paths["/v1/destinations/{name}"]).sort(), [
      "delete",
      "get",
      "patch",
    ]);
    assert.ok(paths["/v1/destinations/test"].post);
    assert.ok(paths["/v1/destinations/{name}/test"].post);
    assert.ok(doc.json.components.schemas.DestinationCreate);
    assert.equal(API_KEY.length > 0, true);
  });
});
