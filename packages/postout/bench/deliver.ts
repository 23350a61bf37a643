/**
 * Posts N leads through a Postout gateway into a sandbox the bench started, as `postout post`
 * does (accept, then drain), and keeps draining the leads scheduled for a later retry until
 * every lead is delivered or the deadline passes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sandbox } from "@postout/sandbox";
import { Gateway } from "../src/gateway.ts";
import { IDENTITY_MAP } from "../src/mapping/field-map.ts";
import { preparer } from "../src/prepare.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { LeadStatus } from "../src/store/store.ts";

export const ROUTE: Route = {
  endpoint: "syncLeads",
  action: "createOrUpdate",
  lookupField: "email",
};

export const lead = (i: number) => ({
  email: `bench${i}@example.com`,
  firstName: `F${i}`,
  lastName: `L${i}`,
  company: "Bench Inc",
});

export interface Delivery {
  readonly statuses: Record<LeadStatus, number>;
  /** From the first call (preflight included) to the last lead recorded. */
  readonly seconds: number;
  /** REST calls by code as the gateway's client counted them. */
  readonly clientCalls: Map<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function deliver(sandbox: Sandbox, n: number, deadlineMs: number): Promise<Delivery> {
  const dir = mkdtempSync(join(tmpdir(), "postout-bench-"));
  const store = new SqliteStore(join(dir, "bench.db"));
  const gateway = await Gateway.open({
    store,
    config: {
      db: "",
      sandbox: false,
      retry: undefined,
      destinations: [
        {
          name: "bench",
          baseUrl: sandbox.url,
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
          callsPer20s: undefined,
          concurrency: undefined,
        },
      ],
    },
    announce: () => {},
  });
  try {
    const destination = gateway.destination();
    const prepare = preparer({
      map: IDENTITY_MAP,
      route: ROUTE,
      schema: (o) => destination.schema(o),
    });
    const started = performance.now();
    const deadline = Date.now() + deadlineMs;
    function* rows() {
      for (let i = 0; i < n; i++) yield { raw: lead(i), line: i + 2 };
    }
    await gateway.accept(rows(), {
      destination: destination.name,
      route: ROUTE,
      prepare,
      chunk: 5000,
    });
    for (;;) {
      await destination.dispatcher.drain();
      const statuses = await store.countByStatus({});
      const next = await store.nextDueAt(destination.name);
      if (statuses.delivered >= n || next === undefined) {
        const seconds = (performance.now() - started) / 1000;
        return { statuses, seconds, clientCalls: new Map(destination.calls) };
      }
      if (Date.now() >= deadline)
        throw new Error(`deadline passed with ${statuses.delivered} of ${n} leads delivered`);
      process.stderr.write(
        `bench: ${statuses.delivered}/${n} delivered; next retry in ${Math.max(0, next - Date.now())} ms\n`,
      );
      await sleep(Math.min(Math.max(50, next - Date.now()), deadline - Date.now()));
    }
  } finally {
    await gateway.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
