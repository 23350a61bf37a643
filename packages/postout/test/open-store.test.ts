import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isPostgresUrl, redactedUrl } from "../src/store/database-url.ts";
import { isStoreError } from "../src/store/errors.ts";
import { openStore } from "../src/store/open-store.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
  ),
);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let cluster: PostgresCluster;
let dir: string;
before(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), "postout-open-"));
});
after(() => {
  cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe("choosing the store: a postgres:// URL is PostgreSQL, a path is SQLite", () => {
  it("tells a URL from a path", () => {
    const table: [string, boolean][] = [
      ["postgres://u@127.0.0.1:5432/postout", true],
      ["postgresql://u:pw@db.example.com/postout?sslmode=require", true],
      ["POSTGRES://u@h/db", true],
      ["./data/postout.db", false],
      ["/var/lib/postout/postgres.db", false],
      ["postgres.db", false],
      ["sqlite://x", false],
    ];
    for (const [db, expected] of table) assert.equal(isPostgresUrl(db), expected, db);
  });

  it("never shows a URL's password", () => {
    const table: [string, string][] = [
      ["postgres://u:s3cret@h:5432/db", "postgres://u:***@h:5432/db"],
      ["postgresql://u@h/db", "postgresql://u@h/db"],
      ["postgres://u:p%40ss@h/db?sslmode=require", "postgres://u:***@h/db?sslmode=require"],
      // Not a URL WHATWG parses (a bad port): still no password.
      ["postgres://u:s3cret@h:99999999/db", "postgres://u:***@h:99999999/db"],
      ["./data/postout.db", "./data/postout.db"],
    ];
    for (const [db, shown] of table) assert.equal(redactedUrl(db), shown, db);
  });

  it("openStore opens a SQLite file for a path and PostgreSQL for either URL scheme", async () => {
    const sqlite = await openStore(join(dir, "a", "postout.db"));
    assert.ok(sqlite instanceof SqliteStore);
    await sqlite.close();
    for (const scheme of ["postgres", "postgresql"]) {
      const url = (await cluster.createDatabase()).replace(/^postgres/, scheme);
      const store = await openStore(url);
      try {
        assert.ok(store instanceof PostgresStore, scheme);
        assert.equal(await store.health({ probe: true }), undefined);
      } finally {
        await store.close();
      }
    }
  });

  it("a server nobody answers on: 'unreachable', naming the URL without its password", async () => {
    const url = `postgresql://postout:s3cret-pw@127.0.0.1:${await closedPort()}/postout`;
    await assert.rejects(openStore(url), (error: unknown) => {
      assert.ok(isStoreError(error));
      assert.equal(error.code, "unreachable");
      assert.ok(!`${error.message} ${error.path}`.includes("s3cret-pw"), error.message);
      assert.ok(error.message.includes("postout:***@127.0.0.1"), error.message);
      return true;
    });
  });

  it("a role or database the server does not know: 'refused' by its SQLSTATE, saying what to create", async () => {
    // The test cluster trusts local connections, so a role that does not exist is the refusal.
    const table: [url: string, sqlState: string, says: RegExp][] = [
      [
        cluster.url().replace("//postgres@", "//nobody:s3cret-pw@"),
        "28000",
        /refused the role nobody or its password \(28000: .*CREATE ROLE nobody LOGIN/,
      ],
      [
        cluster.url("no_such_db"),
        "3D000",
        /has no database no_such_db \(3D000: .*CREATE DATABASE no_such_db OWNER postgres/,
      ],
    ];
    for (const [url, sqlState, says] of table) {
      await assert.rejects(openStore(url), (error: unknown) => {
        assert.ok(isStoreError(error));
        assert.equal(error.code, "refused", sqlState);
        assert.equal((error.cause as { code?: unknown }).code, sqlState);
        assert.match(error.message, says);
        assert.doesNotMatch(error.message, /cannot be reached/);
        assert.ok(!error.message.includes("s3cret-pw"), error.message);
        return true;
      });
    }
    // serve exits 2 (a mistake of the configuration) with the same words, and no password.
    const url = cluster.url().replace("//postgres@", "//nobody:s3cret-pw@");
    const served = spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--db", url], {
      cwd: dir,
      env: CLEAN_ENV,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(served.status, 2, served.stderr);
    assert.match(served.stderr, /refused the role nobody or its password \(28000/);
    assert.ok(!served.stderr.includes("s3cret-pw"), served.stderr);
  });

  it("the CLI takes the URL from --db, POSTOUT_DB and the config file's db", () => {
    const run = (args: readonly string[], env: NodeJS.ProcessEnv = CLEAN_ENV, cwd = dir) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: "utf8" });
    return (async () => {
      const url = await cluster.createDatabase();
      writeFileSync(join(dir, "leads.csv"), "email,firstName\na@example.com,A\nb@example.com,B\n");
      const posted = run(["post", "leads.csv", "--json"], { ...CLEAN_ENV, POSTOUT_DB: url });
      assert.equal(posted.status, 0, posted.stderr);
      assert.equal(JSON.parse(posted.stdout).delivered, 2);

      const viaFlag = run(["report", "--json", "--db", url]);
      assert.equal(viaFlag.status, 0, viaFlag.stderr);
      assert.equal(JSON.parse(viaFlag.stdout).length, 2);

      const configured = mkdtempSync(join(dir, "configured-"));
      writeFileSync(join(configured, "postout.config.json"), JSON.stringify({ db: url }));
      const viaConfig = run(["report", "--json"], CLEAN_ENV, configured);
      assert.equal(viaConfig.status, 0, viaConfig.stderr);
      assert.equal(JSON.parse(viaConfig.stdout).length, 2);

      const down = `postgres://postout:s3cret-pw@127.0.0.1:${await closedPort()}/postout`;
      const failed = run(["report", "--db", down]);
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /cannot be reached/);
      assert.ok(!failed.stderr.includes("s3cret-pw"), failed.stderr);
    })();
  });
});
