import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import type { Config } from "../src/config.ts";
import {
  createDestination,
  editDestination,
  removeDestination,
} from "../src/destinations/manage.ts";
import { Gateway } from "../src/gateway.ts";
import type { Route } from "../src/route.ts";
import { envKeySource } from "../src/secrets/key-source.ts";
import { newSecretKey } from "../src/secrets/secret-box.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";

const SECRET = "gw-pg-Secret-R4n8-never-logged";
const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

describe("gateway and the catalog on PostgreSQL (two processes' gateways on one database)", () => {
  let sandbox: Sandbox;
  let cluster: PostgresCluster;
  const keys = envKeySource(newSecretKey().bytes.toString("base64"));
  const logs: string[] = [];
  const config = (db: string): Config => ({
    db,
    sandbox: false,
    retry: undefined,
    destinations: [
      {
        name: "main",
        baseUrl: sandbox.url,
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        callsPer20s: undefined,
        concurrency: undefined,
      },
    ],
  });
  /** A gateway on its own store (its own pool of connections), as another process opens it. */
  async function open(url: string) {
    const store = await PostgresStore.open(url);
    const gateway = await Gateway.open({
      store,
      config: config(url),
      keys,
      log: (line) => logs.push(line),
      scheduler: { tickMs: 20, lingerMs: 0, leaseMs: 2_000 },
    });
    return { store, gateway };
  }
  const access = (store: PostgresStore) => ({
    catalog: store,
    keys,
    configNames: new Set(["main"]),
    now: Date.now,
  });
  const input = (name: string) => ({
    name,
    baseUrl: sandbox.url,
    clientId: sandbox.clientId,
    clientSecret: SECRET,
  });
  const leads = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ raw: { email: `pg${i}@example.com` } }));
  const prepare = (raw: Readonly<Record<string, unknown>>) => ({ input: { email: raw.email } });

  before(async () => {
    [sandbox, cluster] = await Promise.all([
      startSandbox({ latency: false, clientSecret: SECRET }),
      startCluster(),
    ]);
  });
  after(async () => {
    await sandbox.close();
    cluster.destroy();
    for (const line of logs) assert.doesNotMatch(line, new RegExp(SECRET));
  });

  it("two gateways on one database see each other's creations, edits and removals; a removal holds the leads paused and re-creating the name resumes them", async () => {
    const url = await cluster.createDatabase();
    const a = await open(url);
    const b = await open(url);
    let reads = 0;
    const listCatalog = b.store.listCatalog.bind(b.store);
    b.store.listCatalog = () => {
      reads += 1;
      return listCatalog();
    };
    try {
      assert.deepEqual(await b.gateway.syncDestinations(), {
        added: [],
        changed: [],
        removed: [],
      });
      assert.equal(reads, 0, "no change: one version query, no read of the catalog");

      await createDestination(access(a.store), input("beta"));
      assert.deepEqual((await a.gateway.syncDestinations()).added, ["beta"]);
      assert.deepEqual((await b.gateway.syncDestinations()).added, ["beta"]);
      assert.equal(reads, 1);
      assert.equal(b.gateway.credentialsOf("beta")?.clientSecret, SECRET);

      await editDestination(access(b.store), "beta", { callsPer20s: 30 });
      assert.deepEqual((await b.gateway.syncDestinations()).changed, ["beta"]);
      assert.deepEqual((await a.gateway.syncDestinations()).changed, ["beta"]);
      assert.equal(a.gateway.destination("beta").settings.callsPer20s, 30);

      // Leads taken in by one process, the destination removed by the other: held, not dropped.
      const { accepted } = await a.gateway.accept(leads(3), {
        destination: "beta",
        route: SYNC,
        prepare,
      });
      assert.equal(accepted, 3);
      const held = await b.gateway.whileStopped("beta", () =>
        removeDestination(access(b.store), "beta", "pause"),
      );
      assert.equal(held, 3);
      assert.deepEqual((await a.gateway.syncDestinations()).removed, ["beta"]);
      assert.throws(() => a.gateway.destination("beta"), /no destination named "beta"/);
      assert.throws(() => b.gateway.destination("beta"), /no destination named "beta"/);
      assert.equal((await a.store.countByStatus({ destination: "beta" })).paused, 3);
      assert.equal((await a.store.getDestination("beta"))?.pausedCode, "removed");

      const again = await createDestination(access(a.store), input("beta"));
      assert.equal(again.resumed, 3);
      assert.deepEqual((await b.gateway.syncDestinations()).added, ["beta"]);
      assert.equal((await b.store.getDestination("beta"))?.pausedCode, undefined);
      assert.equal(reads, 4, "one read per change seen: create, edit, remove, create");
    } finally {
      await Promise.all([a.gateway.close(), b.gateway.close()]);
      await Promise.all([a.store.close(), b.store.close()]);
    }
  });

  it("two running gateways deliver once each lead taken in by one for a destination the other created", async () => {
    const url = await cluster.createDatabase();
    const a = await open(url);
    const b = await open(url);
    try {
      await createDestination(access(b.store), input("gamma"));
      await Promise.all([a.gateway.syncDestinations(), b.gateway.syncDestinations()]);
      a.gateway.start();
      b.gateway.start();
      const { ids } = await a.gateway.accept(leads(20), {
        destination: "gamma",
        route: SYNC,
        prepare,
      });
      for (let waited = 0; waited < 15_000; waited += 50) {
        if ((await a.store.countByStatus({ destination: "gamma" })).delivered === 20) break;
        await sleep(50);
      }
      assert.equal((await a.store.countByStatus({ destination: "gamma" })).delivered, 20);
      for (const id of ids) {
        const attempts = await b.store.getAttempts(id);
        assert.deepEqual(
          attempts.map((t) => t.statusCode),
          ["200"],
          `lead ${id} sent once`,
        );
      }
    } finally {
      await Promise.all([a.gateway.close(), b.gateway.close()]);
      await Promise.all([a.store.close(), b.store.close()]);
    }
  });
});
