import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { clearTokenCache, MarketoClient } from "@postout/marketo";
import { Dispatcher } from "../src/dispatcher.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { NewLead } from "../src/store/store.ts";

// A "Marketo" that answers as an attacker (or a broken proxy) would: huge messages, redirects,
// garbage bodies, short or odd results. Whatever it says, no lead is marked delivered without
// Marketo's word for it, and each answer costs kilobytes in the database, not megabytes.

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

interface Server {
  readonly url: string;
  readonly received: { method: string; url: string }[];
  answer(write: Handler): void;
  close(): Promise<void>;
}

async function server(): Promise<Server> {
  const received: { method: string; url: string }[] = [];
  let write: Handler = (_req, _body, res) => res.writeHead(404).end();
  const http = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "" });
      if (req.url?.startsWith("/identity/")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: "tok:hostile", expires_in: 3600 }));
        return;
      }
      write(req, body, res);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    received,
    answer(next) {
      write = next;
    },
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const HUGE = "x".repeat(200_000);

describe("a hostile Marketo: no lead delivered without Marketo's word, kilobytes per answer", () => {
  let marketo: Server;
  let elsewhere: Server;
  let dir: string;
  before(async () => {
    marketo = await server();
    elsewhere = await server();
    dir = mkdtempSync(join(tmpdir(), "postout-hostile-"));
  });
  after(async () => {
    await Promise.all([marketo.close(), elsewhere.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  function setup(route: Route = SYNC) {
    n += 1;
    clearTokenCache();
    const path = join(dir, `h${n}.db`);
    const store = new SqliteStore(path);
    let clock = Date.UTC(2026, 11, 4, 12);
    const now = () => clock;
    const client = new MarketoClient({
      baseUrl: marketo.url,
      clientId: "id",
      clientSecret: "secret",
      retry: { maxAttempts: 1 },
    });
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client,
      worker: `w${n}`,
      now,
      policy: { retryScheduleMs: [1000, 1000, 1000, 1000, 1000, 1000] },
      verify: { settleMs: 1000, skewMs: 0 },
    });
    const add = (count: number, tag = "") =>
      store.addLeads(
        Array.from(
          { length: count },
          (_, i): NewLead => ({
            destination: "main",
            route,
            raw: { i },
            input: { email: `h${n}${tag}-${i}@example.com`, firstName: `F${i}` },
            intakeKey: `k${tag}${i}`,
          }),
        ),
        now(),
      );
    const later = (ms: number) => {
      clock += ms;
    };
    const bytes = () =>
      [path, `${path}-wal`].reduce((sum, p) => {
        try {
          return sum + statSync(p).size;
        } catch {
          return sum;
        }
      }, 0);
    return { store, dispatcher, add, later, bytes };
  }

  it("a 200 KB error message on every call of 300 leads, 7 tries each: each row under 6 KB, the file (WAL included) under 16 KB a row", async (t) => {
    const { store, dispatcher, add, later, bytes } = setup();
    marketo.answer((_req, _body, res) =>
      json(res, {
        requestId: `r#${HUGE}`,
        success: false,
        errors: Array.from({ length: 50 }, () => ({ code: "611", message: HUGE })),
      }),
    );
    const { ids } = await add(300);
    for (let round = 0; round < 7; round++) {
      await dispatcher.drain();
      later(1500);
    }
    const size = bytes();
    const rows = 300 * 7;
    t.diagnostic(
      `database + WAL after 300 leads × 7 attempts of a 10 MB answer: ${size} bytes, ${Math.round(size / rows)} a row`,
    );
    // Before the bounds, 6 such calls made a database of 783 MB (about 435 KB a row).
    assert.ok(size / rows < 16 * 1024, `${size} bytes for ${rows} rows`);
    const lead = await store.getLead(ids[0] as number);
    assert.equal(lead?.status, "needs_fix", "gave up after the schedule");
    const attempts = await store.getAttempts(ids[0] as number);
    assert.equal(attempts.length, 7);
    for (const a of attempts) {
      assert.ok(JSON.stringify(a).length < 6 * 1024, `a row of ${JSON.stringify(a).length} chars`);
      assert.ok((a.reason ?? "").length < 1100, `reason of ${(a.reason ?? "").length} chars`);
      assert.match(a.reason ?? "", /\[cut [\d,]+ chars\]/);
      assert.ok(JSON.stringify(a.response).length <= 4_200);
      assert.ok((a.requestId ?? "").length < 150);
    }
  });

  it("a 200 KB reason for one record: needs_fix with the reason cut and marked", async () => {
    const { store, dispatcher, add } = setup();
    marketo.answer((_req, _body, res) =>
      json(res, {
        requestId: "r#1",
        success: true,
        result: [{ status: "skipped", reasons: [{ code: "1006", message: `Field '${HUGE}'` }] }],
      }),
    );
    const { ids } = await add(1);
    await dispatcher.drain();
    const lead = await store.getLead(ids[0] as number);
    assert.equal(lead?.status, "needs_fix");
    assert.ok((lead?.lastReason ?? "").length < 1100);
    assert.ok((lead?.fix ?? "").length < 2100);
  });

  it("a redirect to another host: nothing is sent there, the lead is not delivered, the code is the redirect's", async () => {
    const { store, dispatcher, add } = setup();
    elsewhere.received.length = 0;
    marketo.answer((_req, _body, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/rest/v1/leads.json?access_token=abc` });
      res.end();
    });
    const { ids } = await add(2);
    await dispatcher.drain();
    assert.deepEqual(elsewhere.received, [], "the other host received nothing");
    const lead = await store.getLead(ids[0] as number);
    assert.equal(lead?.status, "needs_fix");
    assert.equal(lead?.lastCode, "307");
    const [attempt] = await store.getAttempts(ids[0] as number);
    assert.doesNotMatch(JSON.stringify(attempt), /access_token=abc/);
  });

  it("garbage with HTTP 200, a result for fewer records than sent, an id that is no id: none delivered without Marketo's word", async () => {
    const { store, dispatcher, add } = setup();
    const answers: ((res: ServerResponse) => void)[] = [
      (res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>gateway</html>");
      },
      (res) =>
        json(res, { requestId: "r#2", success: true, result: [{ id: 5, status: "created" }] }),
      (res) =>
        json(res, {
          requestId: "r#3",
          success: true,
          result: [
            { id: "abc", status: "created" },
            { id: 7, status: "updated" },
            { id: -3, status: "created" },
          ],
        }),
    ];
    const statuses: string[][] = [];
    for (const [k, write] of answers.entries()) {
      marketo.answer((_req, _body, res) => write(res));
      const { ids } = await add(3, `g${k}`);
      await dispatcher.drain();
      const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
      statuses.push(rows.map((r) => `${r?.status}:${r?.lastCode ?? "200"}`));
    }
    assert.deepEqual(statuses, [
      ["retrying:invalid_response", "retrying:invalid_response", "retrying:invalid_response"],
      ["delivered:200", "retrying:unknown", "retrying:unknown"],
      ["retrying:unknown", "delivered:200", "retrying:unknown"],
    ]);
  });
});
