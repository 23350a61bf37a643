import { after, before } from "node:test";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";
import { storeSuite } from "./store-suite.ts";

let cluster: PostgresCluster | undefined;
before(async () => {
  cluster = await startCluster();
});
after(() => cluster?.destroy());

storeSuite("PostgreSQL", async () => {
  if (!cluster) throw new Error("the PostgreSQL cluster did not start");
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url);
  let current = store;
  return {
    store,
    reopen: async () => {
      current = await PostgresStore.open(url);
      return current;
    },
    cleanup: async () => {
      for (const s of new Set([store, current])) await s.close().catch(() => {});
    },
  };
});
