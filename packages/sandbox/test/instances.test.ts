import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startSandbox } from "../src/index.ts";
import { call, errorCode, sandbox, token } from "./helpers.ts";

const describePath = "/rest/v1/leads/describe.json";
const chicagoEve = Date.parse("2026-01-15T05:58:00Z");

interface Listing {
  url: string;
  clientId: string;
  clientSecret: string;
  created: boolean;
}

async function listing(url: string): Promise<Listing[]> {
  return (await (await fetch(`${url}/_sandbox/instances`)).json()) as Listing[];
}

async function identityAnswer(
  url: string,
  clientId: string,
  clientSecret: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const q = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: clientId,
    client_secret: clientSecret,
  });
  const res = await fetch(`${url}/identity/oauth/token?${q}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("many instances in one sandbox", () => {
  test("each instance has its own prefix and credentials; the root is the sandbox as before", async () => {
    const sb = await sandbox({ instances: 12, clientId: "root-id", clientSecret: "root-secret" });
    assert.equal(sb.instances.length, 12);
    assert.equal(sb.instances[7]?.url, `${sb.url}/i/0007`);
    assert.equal(sb.instances[11]?.url, `${sb.url}/i/0011`);
    assert.equal(sb.clientId, "root-id");
    const ids = new Set([sb.clientId, ...sb.instances.map((i) => i.clientId)]);
    assert.equal(ids.size, 13, "every instance has its own client id");
    const listed = await listing(sb.url);
    assert.deepEqual(
      listed.map((l) => [l.url, l.clientId, l.clientSecret]),
      sb.instances.map((i) => [i.url, i.clientId, i.clientSecret]),
    );
    const seven = sb.instances[7];
    assert.ok(seven);
    assert.equal((await identityAnswer(seven.url, seven.clientId, seven.clientSecret)).status, 200);
    assert.equal((await identityAnswer(sb.url, "root-id", "root-secret")).status, 200);
  });

  test("(1) a lead created in instance 3 is not visible in instance 4", async () => {
    const sb = await sandbox({ instances: 5 });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    const email = "only-in-three@example.com";
    const created = await call(three, await token(three), "POST", "/rest/v1/leads.json", {
      action: "createOnly",
      lookupField: "email",
      input: [{ email }],
    });
    assert.equal(created.body.result?.[0]?.status, "created");
    const byEmail = `/rest/v1/leads.json?filterType=email&filterValues=${email}`;
    const inThree = await call(three, await token(three), "GET", byEmail);
    assert.equal(inThree.body.result?.length, 1);
    const inFour = await call(four, await token(four), "GET", byEmail);
    assert.equal(inFour.body.success, true);
    assert.deepEqual(inFour.body.result, []);
    assert.equal((await call(sb, await token(sb), "GET", byEmail)).body.result?.length, 0);
    const totals = (r: Record<string, unknown>) => (r.totals as { leads: number }).leads;
    assert.deepEqual(
      [totals(three.records()), totals(four.records()), totals(sb.records())],
      [1, 0, 0],
    );
  });

  test("(2) instance 3's 606 rate limit does not reach instance 4", async () => {
    const sb = await sandbox({ instances: 5, rateLimit: { calls: 3, windowMs: 20_000 } });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    const t3 = await token(three);
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 4; i++)
      codes.push(errorCode((await call(three, t3, "GET", describePath)).body));
    assert.deepEqual(codes, [undefined, undefined, undefined, "606"]);
    const t4 = await token(four);
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(four, t4, "GET", describePath)).body.success, true);
    }
    const window = (s: Record<string, unknown>) => (s.rateWindow as { calls: number }).calls;
    assert.deepEqual([window(three.state()), window(four.state())], [4, 3]);
  });

  test("(2) instance 3's concurrency slots all taken (615) leave instance 4's free", async () => {
    const sb = await sandbox({ instances: 5 });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    const [t3, t4] = [await token(three), await token(four)];
    three.foreignTraffic({ holdSlots: 10, holdMs: 60_000 });
    assert.equal(errorCode((await call(three, t3, "GET", describePath)).body), "615");
    assert.equal((await call(four, t4, "GET", describePath)).body.success, true);
    assert.equal((await call(sb, await token(sb), "GET", describePath)).body.success, true);
  });

  test("(2) instance 3's quota runs out and resets at its own Chicago midnight; instance 4 is untouched", async () => {
    const sb = await sandbox({ instances: 5, dailyQuota: 2, clock: chicagoEve });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    const t3 = await token(three);
    await call(three, t3, "GET", describePath);
    await call(three, t3, "GET", describePath);
    assert.equal(errorCode((await call(three, t3, "GET", describePath)).body), "607");
    const t4 = await token(four);
    assert.equal((await call(four, t4, "GET", describePath)).body.success, true);
    // Instance 3's clock passes midnight; instance 4's stays on the quota day it had.
    three.clock.set(Date.parse("2026-01-15T06:00:01Z"));
    assert.equal((await call(three, await token(three), "GET", describePath)).body.success, true);
    assert.equal(four.clock.now(), chicagoEve);
    const quota = (s: Record<string, unknown>) => s.quota as { day: string; used: number };
    assert.deepEqual(quota(three.state()), { ...quota(three.state()), day: "2026-01-15", used: 1 });
    assert.deepEqual(quota(four.state()), { ...quota(four.state()), day: "2026-01-14", used: 1 });
  });

  test("(2) a fault injected in instance 3, by its handle or its /_sandbox, stays there", async () => {
    const sb = await sandbox({ instances: 5 });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    // Tokens first: faults apply to /identity too.
    const t3 = await token(three);
    const t4 = await token(four);
    three.faults.add({ code: "604", count: 1 });
    const res = await fetch(`${three.url}/_sandbox/faults`, {
      method: "POST",
      body: JSON.stringify({ code: "611", count: 1 }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      three.faults.list().map((f) => f.code),
      ["604", "611"],
    );
    assert.deepEqual(four.faults.list(), []);
    assert.deepEqual(await (await fetch(`${four.url}/_sandbox/faults`)).json(), []);
    assert.equal(errorCode((await call(four, t4, "GET", describePath)).body), undefined);
    assert.equal(errorCode((await call(three, t3, "GET", describePath)).body), "604");
    assert.equal(errorCode((await call(three, t3, "GET", describePath)).body), "611");
    assert.equal(errorCode((await call(four, t4, "GET", describePath)).body), undefined);
    // The call log of each instance holds its own calls, under paths without the prefix.
    assert.deepEqual(
      three.calls().map((c) => [c.path, c.code]),
      [
        ["/identity/oauth/token", "200"],
        [describePath, "604"],
        [describePath, "611"],
      ],
    );
    assert.deepEqual(
      four.calls().map((c) => c.code),
      ["200", "200", "200"],
    );
    assert.deepEqual(sb.calls(), []);
  });

  test("(3) instance 3's credentials and token are refused by instance 4", async () => {
    const sb = await sandbox({ instances: 5 });
    const [three, four] = [sb.instances[3], sb.instances[4]];
    assert.ok(three && four);
    const refused = await identityAnswer(four.url, three.clientId, three.clientSecret);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, "invalid_client");
    assert.equal((await identityAnswer(sb.url, three.clientId, three.clientSecret)).status, 401);
    const t3 = await token(three);
    assert.equal(errorCode((await call(four, t3, "GET", describePath)).body), "601");
    assert.equal(errorCode((await call(sb, t3, "GET", describePath)).body), "601");
  });

  test("(4) a prefix that names no instance answers 404, as a wrong host would", async () => {
    const sb = await sandbox({ instances: 5 });
    for (const path of [
      "/i/0005/identity/oauth/token",
      "/i/0005/rest/v1/leads.json",
      "/i/5/rest/v1/leads.json",
      "/i/00003/rest/v1/leads.json",
      "/i/abcd/rest/v1/leads.json",
      "/i//rest/v1/leads.json",
      "/i/0005/_sandbox/state",
      "/i/",
    ]) {
      const res = await fetch(`${sb.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/, path);
      await res.arrayBuffer();
    }
    // The sandbox carries on, and no instance was made by the attempts.
    assert.equal((await identityAnswer(sb.url, sb.clientId, sb.clientSecret)).status, 200);
    assert.deepEqual(
      (await listing(sb.url)).map((l) => l.created),
      [false, false, false, false, false],
    );
  });

  test("without instances, /i/… paths are the root's as before (610)", async () => {
    const sb = await sandbox();
    assert.deepEqual(sb.instances, []);
    const res = await call(sb, await token(sb), "GET", "/i/0000/rest/v1/leads.json");
    assert.equal(res.status, 200);
    assert.equal(errorCode(res.body), "610");
    const controls = await fetch(`${sb.url}/_sandbox/instances`);
    assert.deepEqual(await controls.json(), []);
  });

  test("each instance's /_sandbox controls act on it alone: clock, state, reset", async () => {
    const sb = await sandbox({ instances: 3, clock: chicagoEve });
    const [zero, two] = [sb.instances[0], sb.instances[2]];
    assert.ok(zero && two);
    const moved = await fetch(`${two.url}/_sandbox/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceMs: 3_600_000 }),
    });
    assert.equal(((await moved.json()) as { now: number }).now, chicagoEve + 3_600_000);
    assert.equal(two.clock.now(), chicagoEve + 3_600_000);
    assert.equal(zero.clock.now(), chicagoEve);
    assert.equal(sb.clock.now(), chicagoEve);
    await call(two, await token(two), "POST", "/rest/v1/leads.json", {
      input: [{ email: "a@b.co" }],
    });
    const state = (await (await fetch(`${two.url}/_sandbox/state`)).json()) as { leads: number };
    assert.equal(state.leads, 1);
    await fetch(`${two.url}/_sandbox/reset`, { method: "POST" });
    assert.equal((two.state() as { leads: number }).leads, 0);
    // Only the root lists instances.
    assert.equal((await fetch(`${two.url}/_sandbox/instances`)).status, 404);
  });

  test("the URI limit counts the request target Marketo would see, without the prefix", async () => {
    const sb = await sandbox({ instances: 1, maxUriBytes: 100 });
    const zero = sb.instances[0];
    assert.ok(zero);
    const target = (bytes: number): string => {
      const base = "/rest/v1/leads.json?filterType=id&filterValues=";
      return `${base}${"1".repeat(bytes - base.length)}`;
    };
    // No token: a target within the limit gets past 414 to the token check (601).
    assert.equal(errorCode((await call(zero, undefined, "GET", target(100))).body), "601");
    assert.equal((await call(zero, undefined, "GET", target(101))).status, 414);
  });

  test("instances given as options: each entry over the root's options", async () => {
    const sb = await sandbox({
      instances: [
        { clientId: "tight", clientSecret: "s", rateLimit: { calls: 1, windowMs: 20_000 } },
        {},
      ],
      rateLimit: { calls: 2, windowMs: 20_000 },
    });
    const [tight, loose] = [sb.instances[0], sb.instances[1]];
    assert.ok(tight && loose);
    assert.equal(tight.clientId, "tight");
    const codes = async (instance: typeof tight): Promise<Array<string | undefined>> => {
      const t = await token(instance);
      const out: Array<string | undefined> = [];
      for (let i = 0; i < 3; i++)
        out.push(errorCode((await call(instance, t, "GET", describePath)).body));
      return out;
    };
    assert.deepEqual(await codes(tight), [undefined, "606", "606"]);
    assert.deepEqual(await codes(loose), [undefined, undefined, "606"]);
  });

  test("bad instances options fail the start with the option's name", async () => {
    await assert.rejects(startSandbox({ instances: -1 }), /instances/);
    await assert.rejects(startSandbox({ instances: 1.5 }), /instances/);
    await assert.rejects(
      startSandbox({ instances: [{ rateLimit: { calls: 0, windowMs: 1 } }] }),
      /rateLimit\.calls/,
    );
  });

  test("1,000 instances: none is made until used, then only the one used", async () => {
    const sb = await sandbox({ instances: 1000 });
    assert.equal(sb.instances.length, 1000);
    assert.equal(sb.instances[999]?.url, `${sb.url}/i/0999`);
    const created = async (): Promise<number[]> =>
      (await listing(sb.url)).flatMap((l, i) => (l.created ? [i] : []));
    assert.deepEqual(await created(), []);
    const last = sb.instances[999];
    const mid = sb.instances[500];
    assert.ok(last && mid);
    assert.ok(mid.clientId.length > 0 && mid.clientSecret.length > 0);
    assert.deepEqual(await created(), [], "reading credentials makes nothing");
    await token(last);
    assert.deepEqual(await created(), [999]);
    mid.state();
    assert.deepEqual(await created(), [500, 999]);
  });
});
