import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { intakeKey } from "../src/gateway.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const MIGRATIONS = new URL("../src/store/sqlite/migrations/", import.meta.url);
const SYNC = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" } as const;
const T0 = Date.parse("2026-11-23T12:00:00Z");

/** A database as migrations 001–003 left it, with leads stored under 003's insert trigger. */
function databaseAt003(path: string, emails: readonly string[]): void {
  const db = new Database(path);
  for (const file of ["001-initial.sql", "002-attempts-at.sql", "003-list-filters.sql"]) {
    db.exec(readFileSync(new URL(file, MIGRATIONS), "utf8"));
  }
  db.pragma("user_version = 3");
  const insert = db.prepare(
    `INSERT INTO leads (destination, route, route_key, raw, email, status, created_at, updated_at)
     VALUES ('main', ?, ?, '{}', ?, 'delivered', ?, ?)`,
  );
  for (const email of emails) {
    insert.run(JSON.stringify(SYNC), JSON.stringify(SYNC), email, T0, T0);
  }
  db.close();
}

/**
 * FTS5's own check, against the leads table (rank 1), that the trigram index holds each lead's
 * email exactly once: it throws "database disk image is malformed" for a lead left out or
 * indexed twice.
 */
function emailIndexIsExact(path: string): void {
  const db = new Database(path);
  try {
    db.exec(
      "INSERT INTO leads_email_trigram (leads_email_trigram, rank) VALUES ('integrity-check', 1)",
    );
  } finally {
    db.close();
  }
}

test("a database from migration 003 keeps its email index, and leads added after 004 join it once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-migrate-"));
  const path = join(dir, "postout.db");
  try {
    databaseAt003(path, ["old1@before.example", "old2@before.example"]);
    const store = new SqliteStore(path);
    const emails = async (part: string) =>
      (await store.listLeads({ email: part }, { limit: 100 })).leads.map((l) => l.email).sort();
    assert.deepEqual(await emails("@before."), ["old1@before.example", "old2@before.example"]);
    await store.addLeads(
      ["new1@after.example", "new2@after.example"].map((email, i) => ({
        destination: "main",
        route: SYNC,
        raw: { email },
        input: { email },
        intakeKey: `after#${i}`,
      })),
      T0,
    );
    assert.deepEqual(await emails(".example"), [
      "new1@after.example",
      "new2@after.example",
      "old1@before.example",
      "old2@before.example",
    ]);
    assert.deepEqual(await emails("2@"), ["new2@after.example", "old2@before.example"]);
    await store.close();
    emailIndexIsExact(path);
    const db = new Database(path, { readonly: true });
    const triggers = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
      .pluck()
      .all();
    db.close();
    // 004: no per-row trigger on insert (addLeads indexes a chunk at once); delete and update stay.
    assert.deepEqual(triggers, ["leads_email_trigram_delete", "leads_email_trigram_update"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a test lead stored before migration 007 no longer stands for the real lead: its key moves to the test namespace", async () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-migrate-"));
  const path = join(dir, "postout.db");
  try {
    const raw = { email: "tested@before.example" };
    const db = new Database(path);
    for (const file of [
      "001-initial.sql",
      "002-attempts-at.sql",
      "003-list-filters.sql",
      "004-email-index-in-bulk.sql",
    ]) {
      db.exec(readFileSync(new URL(file, MIGRATIONS), "utf8"));
    }
    db.pragma("user_version = 4");
    // Before 007 a test lead's key was the real lead's key.
    db.prepare(
      `INSERT INTO leads (destination, intake_key, route, route_key, raw, email, status, test, created_at, updated_at)
       VALUES ('main', ?, ?, ?, ?, ?, 'test', 1, ?, ?)`,
    ).run(
      intakeKey(SYNC, raw),
      JSON.stringify(SYNC),
      JSON.stringify(SYNC),
      JSON.stringify(raw),
      raw.email,
      T0,
      T0,
    );
    db.close();

    const store = new SqliteStore(path);
    try {
      const lead = (test: boolean) => ({
        destination: "main",
        route: SYNC,
        raw,
        input: raw,
        intakeKey: intakeKey(SYNC, raw, { test }),
        ...(test ? { test: true } : {}),
      });
      const real = await store.addLeads([lead(false)], T0 + 1);
      assert.deepEqual([real.accepted, real.duplicates], [1, 0]);
      const again = await store.addLeads([lead(true)], T0 + 2);
      assert.deepEqual(
        [again.accepted, again.duplicates],
        [0, 1],
        "the old test lead is still found as a test",
      );
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a catalog from before migration 010 keeps the key most of its secrets are sealed with", async () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-migrate-"));
  const path = join(dir, "postout.db");
  try {
    await new SqliteStore(path).close();
    // Back to the schema before 010, with secrets sealed by two keys (one after a rotation
    // that missed a secret sealed meanwhile).
    const db = new Database(path);
    db.exec("DROP TABLE catalog_key");
    db.pragma("user_version = 9");
    const insert = db.prepare(
      `INSERT INTO destination_catalog (name, base_url, client_id, sealed_secret, created_at,
         updated_at, version) VALUES (?, 'https://123-ABC-456.mktorest.com', 'id', ?, ?, ?, ?)`,
    );
    insert.run("a", "v1:aaaaaaaa:iv:body:tag", T0, T0, 1);
    insert.run("b", "v1:aaaaaaaa:iv:body:tag", T0, T0, 2);
    insert.run("c", "v1:bbbbbbbb:iv:body:tag", T0, T0 + 1, 3);
    db.close();

    const store = new SqliteStore(path);
    try {
      const entry = (name: string, keyId: string) => ({
        name,
        baseUrl: "https://123-ABC-456.mktorest.com",
        clientId: "id",
        secret: { sealed: `v1:${keyId}:iv:body:tag`, keyId },
        callsPer20s: undefined,
        concurrency: undefined,
        dailyBudget: undefined,
        markerField: undefined,
      });
      assert.deepEqual(await store.addCatalogEntry(entry("d", "bbbbbbbb"), T0 + 2), {
        catalogKey: "aaaaaaaa",
      });
      assert.ok("entry" in (await store.addCatalogEntry(entry("d", "aaaaaaaa"), T0 + 2)));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
