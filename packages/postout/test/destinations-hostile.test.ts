import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

const SECRET_A = "red-A-Secret-5tG8-never-shown";
const SECRET_B = "red-B-Secret-2wQ9-never-shown";

describe("destinations at runtime against hostile input (HTTP API in process, two sandboxes)", () => {
  let api: Api;
  /** Customer A's Marketo instance. */
  let a: Sandbox;
  /** Customer B's Marketo instance: a different customer. */
  let b: Sandbox;
  const logs: string[] = [];
  const leadsIn = async (s: Sandbox) => (await s.state()).leads as number;
  const post = (destination: string, n: number, from = 0) =>
    api.call("POST", "/v1/leads", {
      destination,
      route: SYNC_ROUTE,
      leads: Array.from({ length: n }, (_, i) => ({ email: `red${from + i}@example.com` })),
    });

  before(async () => {
    a = await startSandbox({ latency: false, clientSecret: SECRET_A, clientId: "a-client" });
    b = await startSandbox({ latency: false, clientSecret: SECRET_B, clientId: "b-client" });
    api = await openApi({ log: (line) => logs.push(line) });
  });
  after(async () => {
    await api.close();
    await a.close();
    await b.close();
  });

  it("a name removed with its leads held and re-created for another Marketo instance does not send the held leads to that other instance", async () => {
    const created = await api.call("POST", "/v1/destinations", {
      name: "cust",
      baseUrl: a.url,
      clientId: a.clientId,
      clientSecret: SECRET_A,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((await post("cust", 3)).status, 202);
    const removed = await api.call("DELETE", "/v1/destinations/cust?waiting=pause");
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.json.held, 3);

    // The name is free again and given to another customer's instance.
    const again = await api.call("POST", "/v1/destinations", {
      name: "cust",
      baseUrl: b.url,
      clientId: b.clientId,
      clientSecret: SECRET_B,
    });
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.error, /3 lead\(s\)/);
    assert.equal((await api.call("GET", "/v1/destinations/cust")).status, 404);
    const bBefore = await leadsIn(b);
    assert.equal(bBefore, 0, "nothing reached customer B's Marketo");

    // Created again for the instance its leads were accepted for: they are sent there.
    const same = await api.call("POST", "/v1/destinations", {
      name: "cust",
      baseUrl: a.url,
      clientId: a.clientId,
      clientSecret: SECRET_A,
    });
    assert.equal(same.status, 201, same.text);
    await api.gateway.destination("cust").dispatcher.drain();
    assert.equal(await leadsIn(a), 3);
    assert.equal(await leadsIn(b), 0);
  });

  it("an edit that moves a destination to another Marketo instance while its leads wait is refused, and they stay for the first", async () => {
    const created = await api.call("POST", "/v1/destinations", {
      name: "moving",
      baseUrl: a.url,
      clientId: a.clientId,
      clientSecret: SECRET_A,
    });
    assert.equal(created.status, 201, created.text);
    const paused = await api.call("POST", "/v1/destinations/moving/pause", {});
    assert.equal(paused.status, 200, paused.text);
    assert.equal((await post("moving", 2, 100)).status, 202);
    const moved = await api.call("PATCH", "/v1/destinations/moving", {
      baseUrl: b.url,
      clientId: b.clientId,
      clientSecret: SECRET_B,
    });
    assert.equal(moved.status, 409, moved.text);
    assert.match(moved.json.error, /2 lead\(s\) waiting/);
    const now = await api.call("GET", "/v1/destinations/moving");
    assert.equal(now.json.baseUrl, a.url, "the destination still points at the first instance");
    // Its other settings can still be changed.
    const limits = await api.call("PATCH", "/v1/destinations/moving", { callsPer20s: 50 });
    assert.equal(limits.status, 200, limits.text);
  });

  it("refuses a base URL carrying a user name and password, naming the problem (it would be stored, listed and logged in the clear)", async () => {
    const url = new URL(a.url);
    url.username = "admin";
    url.password = "Hunter2-in-the-url";
    const res = await api.call("POST", "/v1/destinations", {
      name: "withcreds",
      baseUrl: url.toString(),
      clientId: a.clientId,
      clientSecret: SECRET_A,
    });
    const list = await api.call("GET", "/v1/destinations");
    assert.doesNotMatch(
      list.text,
      /Hunter2-in-the-url/,
      "the password in the base URL is listed by GET /v1/destinations",
    );
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /baseUrl/);
  });

  for (const name of [".", ".."]) {
    it(`refuses the destination name "${name}": it cannot be addressed in a URL path (/v1/destinations/${name} normalizes away)`, async () => {
      const res = await api.call("POST", "/v1/destinations", {
        name,
        baseUrl: a.url,
        clientId: a.clientId,
        clientSecret: SECRET_A,
      });
      if (res.status === 201) {
        const get = await api.call("GET", `/v1/destinations/${encodeURIComponent(name)}`);
        const del = await api.call("DELETE", `/v1/destinations/${encodeURIComponent(name)}`);
        assert.fail(
          `created "${name}" (201), then GET answered ${get.status} and DELETE ${del.status}: a destination no API call can reach`,
        );
      }
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /name/);
    });
  }
});
