import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import type { Config } from "../src/config.ts";
import {
  createDestination,
  editDestination,
  removeDestination,
} from "../src/destinations/manage.ts";
import { sealDestinationSecret } from "../src/destinations/stored.ts";
import { Gateway } from "../src/gateway.ts";
import { isSecretKeyError } from "../src/secrets/errors.ts";
import { envKeySource } from "../src/secrets/key-source.ts";
import { rotateKey } from "../src/secrets/rotate-key.ts";
import { newSecretKey } from "../src/secrets/secret-box.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const SECRET = "gw-Secret-R4n8-never-logged";

describe("gateway and the catalog (two processes' gateways on one database)", () => {
  let sandbox: Sandbox;
  let dir: string;
  let db: string;
  const key = newSecretKey();
  const keys = envKeySource(key.bytes.toString("base64"));
  /** The key the database's secrets are sealed with now (the rotation test moves it on). */
  let inUse = keys;
  const logs: string[] = [];
  const config = (): Config => ({
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
  /** A gateway on the database, as another process would open it. */
  async function open(options: { keys?: typeof keys; store?: SqliteStore } = {}) {
    const store = options.store ?? new SqliteStore(db);
    const gateway = await Gateway.open({
      store,
      config: config(),
      keys: options.keys ?? keys,
      log: (line) => logs.push(line),
    });
    return { store, gateway };
  }
  const access = (store: SqliteStore) => ({
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

  before(async () => {
    sandbox = await startSandbox({ latency: false, clientSecret: SECRET });
    dir = mkdtempSync(join(tmpdir(), "postout-gw-catalog-"));
    db = join(dir, "postout.db");
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    for (const line of logs) assert.doesNotMatch(line, new RegExp(SECRET));
  });

  it("opens with the catalog's destinations beside the config's, marked by source", async () => {
    const cli = new SqliteStore(db);
    await createDestination(access(cli), input("acme"));
    const { store, gateway } = await open();
    try {
      assert.deepEqual(
        gateway.destinations.map((d) => [d.name, d.source]),
        [
          ["main", "config"],
          ["acme", "api"],
        ],
      );
      assert.equal(gateway.credentialsOf("acme")?.clientSecret, SECRET);
    } finally {
      await gateway.close();
      await store.close();
      await cli.close();
    }
  });

  it("sees another process's creations, edits (a new client, the same gate state) and removals at its next sync, and reads the catalog only when it changed", async () => {
    const { store, gateway } = await open();
    const other = new SqliteStore(db);
    let reads = 0;
    const listCatalog = store.listCatalog.bind(store);
    store.listCatalog = () => {
      reads += 1;
      return listCatalog();
    };
    try {
      assert.deepEqual(await gateway.syncDestinations(), { added: [], changed: [], removed: [] });
      assert.equal(reads, 0, "no change: one version query, no read of the catalog");

      await createDestination(access(other), input("beta"));
      assert.deepEqual(await gateway.syncDestinations(), {
        added: ["beta"],
        changed: [],
        removed: [],
      });
      assert.equal(reads, 1);
      assert.equal(gateway.destination("beta").source, "api");

      const client = gateway.destination("beta").client;
      await client.describeLeads();
      const used = (await client.gateState()).quotaUsed;
      assert.ok(used >= 1);
      await editDestination(access(other), "beta", { callsPer20s: 30 });
      assert.deepEqual((await gateway.syncDestinations()).changed, ["beta"]);
      assert.notEqual(gateway.destination("beta").client, client);
      // The new client keeps the old one's gate state: its calls still count in the window.
      assert.equal((await gateway.destination("beta").client.gateState()).quotaUsed, used);
      assert.equal(gateway.destination("beta").settings.callsPer20s, 30);

      await removeDestination(access(other), "beta", "refuse");
      assert.deepEqual((await gateway.syncDestinations()).removed, ["beta"]);
      assert.throws(() => gateway.destination("beta"), /no destination named "beta"/);
      assert.equal(reads, 3);
    } finally {
      await gateway.close();
      await store.close();
      await other.close();
    }
  });

  it("refuses to open when a config destination's name is also in the catalog, naming both ways out", async () => {
    const store = new SqliteStore(db);
    try {
      await store.addCatalogEntry(
        {
          name: "main",
          baseUrl: sandbox.url,
          clientId: "x",
          secret: sealDestinationSecret("main", "x", keys),
          callsPer20s: undefined,
          concurrency: undefined,
          dailyBudget: undefined,
          markerField: undefined,
        },
        Date.now(),
      );
      await assert.rejects(
        Gateway.open({ store, config: config(), keys, log: () => {} }),
        /"main" is both in the config file .* and in the catalog: remove one/,
      );
      await store.removeCatalogEntry("main", {
        waiting: "refuse",
        now: Date.now(),
        hold: { until: 1, reason: "" },
      });
    } finally {
      await store.close();
    }
  });

  it("after a rotation, reads the secrets with the new key; the old key no longer opens them", async () => {
    const store = new SqliteStore(db);
    try {
      const next = newSecretKey();
      const rotation = await rotateKey(store, keys, { newKey: next, now: Date.now() });
      assert.deepEqual([rotation.from, rotation.to], [key.id, next.id]);
      const newKeys = envKeySource(next.bytes.toString("base64"));
      inUse = newKeys;
      const { gateway } = await open({ keys: newKeys, store });
      assert.equal(gateway.credentialsOf("acme")?.clientSecret, SECRET);
      await gateway.close();
      await assert.rejects(
        open({ keys, store }),
        (e: unknown) =>
          isSecretKeyError(e) &&
          e.code === "wrong-key" &&
          e.message.includes(`sealed with key ${next.id}; the key in use is ${key.id}`),
      );
    } finally {
      await store.close();
    }
  });

  it("a running gateway whose key no longer opens a changed secret keeps the destination running, says so once, never the secret", async () => {
    const store = new SqliteStore(db);
    const { gateway } = await open({ keys: inUse, store });
    try {
      // Another process rotates to a key this one was not given (POSTOUT_SECRET_KEY not switched).
      await rotateKey(store, inUse, { newKey: newSecretKey(), now: Date.now() });
      const before = logs.length;
      assert.deepEqual(await gateway.syncDestinations(), { added: [], changed: [], removed: [] });
      assert.equal(gateway.credentialsOf("acme")?.clientSecret, SECRET, "still running");
      await editDestination(access(store), "acme", { callsPer20s: 10 });
      await gateway.syncDestinations();
      const said = logs.slice(before);
      assert.equal(said.length, 1, said.join("\n"));
      assert.match(said[0] as string, /sealed with key [0-9a-f]{8}; the key in use is [0-9a-f]{8}/);
    } finally {
      await gateway.close();
      await store.close();
    }
  });
});
