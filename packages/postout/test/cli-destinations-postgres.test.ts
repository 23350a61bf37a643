import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));

describe("postout destinations on PostgreSQL (subprocess)", () => {
  let cluster: PostgresCluster;
  let dir: string;
  before(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), "postout-cli-pg-"));
  });
  after(() => {
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("adds to the database's catalog, which every serve on it reads, and lists it; no local file stands in for the database", async () => {
    const url = await cluster.createDatabase();
    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([k]) =>
            !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
        ),
      ),
      POSTOUT_DB: url,
      POSTOUT_SECRET_KEY: randomBytes(32).toString("base64"),
    };
    writeFileSync(join(dir, "acme.secret"), "acme-secret-never-printed");
    const run = (args: readonly string[]) =>
      spawnSync(process.execPath, [BIN, "destinations", ...args], {
        cwd: dir,
        env,
        encoding: "utf8",
      });

    const added = run([
      "add",
      "acme",
      "--base-url",
      "https://123-ABC-456.mktorest.com",
      "--client-id",
      "acme-id",
      "--client-secret-file",
      "acme.secret",
    ]);
    assert.equal(added.status, 0, added.stderr);
    const listed = run(["list", "--json"]);
    assert.equal(listed.status, 0, listed.stderr);
    const names = (JSON.parse(listed.stdout) as { destinations: { name: string }[] }).destinations;
    assert.ok(
      names.some((d) => d.name === "acme"),
      listed.stdout,
    );

    const store = await PostgresStore.open(url);
    try {
      assert.deepEqual(
        (await store.listCatalog()).map((e) => e.name),
        ["acme"],
      );
    } finally {
      await store.close();
    }
    assert.deepEqual(readdirSync(dir).sort(), ["acme.secret"], "nothing written beside it");
  });
});
