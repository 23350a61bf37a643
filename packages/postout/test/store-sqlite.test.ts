import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { storeSuite } from "./store-suite.ts";

storeSuite("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-store-"));
  const path = join(dir, "nested", "postout.db");
  const store = new SqliteStore(path);
  let current = store;
  return {
    store,
    reopen: async () => {
      current = new SqliteStore(path);
      return current;
    },
    cleanup: async () => {
      for (const s of new Set([store, current])) await s.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
