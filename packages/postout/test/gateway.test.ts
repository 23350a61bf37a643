import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import type { Config } from "../src/config.ts";
import { Gateway } from "../src/gateway.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

describe("gateway over the sandbox", () => {
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ latency: false, timeScale: 0.01, seed: 11 });
    dir = mkdtempSync(join(tmpdir(), "postout-gateway-"));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (clientSecret: string): Config => ({
    db: ":memory:",
    sandbox: false,
    retry: undefined,
    destinations: [
      {
        name: "main",
        baseUrl: sandbox.url,
        clientId: sandbox.clientId,
        clientSecret,
        callsPer20s: undefined,
        concurrency: undefined,
      },
    ],
  });
  const rows = [{ raw: { email: "a@example.com" } }, { raw: { email: "b@example.com" } }];
  const prepare = (raw: Readonly<Record<string, unknown>>) => ({ input: raw });

  it("a destination paused for bad credentials resumes when the gateway starts again with good ones", async () => {
    sandbox.reset();
    const store = new SqliteStore(join(dir, "resume.db"));
    const broken = await Gateway.open({ store, config: config("revoked") });
    const { ids } = await broken.accept(rows, { destination: "main", route: SYNC, prepare });
    await broken.destination("main").dispatcher.drain();
    await broken.close();
    assert.equal((await store.countByStatus({ ids })).paused, 2);
    assert.equal((await store.getDestination("main"))?.pausedCode, "401");

    const fixed = await Gateway.open({ store, config: config(sandbox.clientSecret) });
    await fixed.destination("main").dispatcher.drain();
    await fixed.close();
    assert.equal((await store.countByStatus({ ids })).delivered, 2);
    assert.equal((await store.getDestination("main"))?.pausedUntil, undefined);
    assert.equal(sandbox.state().leads, 2);
    await store.close();
  });
});
