import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { clearTokenCache, MarketoClient, type MarketoClientOptions } from "@postout/marketo";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import Database from "better-sqlite3";
import { Dispatcher } from "../src/dispatcher.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { NewLead, Step } from "../src/store/store.ts";

/**
 * The exactly-once tests' setting: a sandbox in process (its clock moved by the tests), a fresh
 * SQLite store per test, a dispatcher, and a way to play a process that died with a call out
 * (a claim by worker "dead" with the wire mark it would have made).
 */
export function onceRig(seed: number) {
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({
      latency: false,
      timeScale: 0.01,
      seed,
      // A text field for Postout's own id, as a destination's markerField names it.
      customFields: [{ name: "postoutId", dataType: "string" }],
    });
    dir = mkdtempSync(join(tmpdir(), "postout-once-"));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  return function setup(
    clientOptions: Partial<MarketoClientOptions> = {},
    options: { readonly markerField?: string } = {},
  ) {
    n += 1;
    sandbox.reset();
    sandbox.faults.clear();
    clearTokenCache();
    const path = join(dir, `t${n}.db`);
    const store = new SqliteStore(path);
    const now = () => sandbox.clock.now();
    const make = (extra: Partial<MarketoClientOptions> = {}) =>
      new MarketoClient({
        baseUrl: sandbox.url,
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        now,
        retry: { maxAttempts: 1 },
        ...extra,
      });
    /** A client without the test's faults, to look at Marketo. */
    const plain = make();
    const client = make(clientOptions);
    const worker = `w${n}`;
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client,
      worker,
      now,
      ...options,
    });
    /** The lead's wire mark and done step, as the database holds them. */
    const marks = (id: number) => {
      const db = new Database(path, { readonly: true });
      try {
        return db
          .prepare("SELECT wire_step AS wire, done_step AS done FROM leads WHERE id = ?")
          .get(id) as { wire: string | null; done: string | null };
      } finally {
        db.close();
      }
    };
    /**
     * Plays a process that held the destination's lease (a wire mark needs it; the dispatcher's
     * from an earlier drain is given up first), claimed the leads, marked them on the wire at
     * `step`, and died: its claims and its lease are given back, as a takeover does.
     */
    const diedWithCallOut = async (ids: readonly number[], step: Step, marketoId?: number) => {
      await store.releaseWorker(worker);
      await store.balance("dead", ["main"], now(), 60_000);
      const claimed = await store.claimDue("main", {
        now: now(),
        limit: 100,
        worker: "dead",
        leaseMs: 60_000,
      });
      await store.markOnWire(
        ids.map((id) => (marketoId === undefined ? { id } : { id, marketoId })),
        { step, done: step === "lead" ? undefined : "lead", at: now(), worker: "dead" },
      );
      await store.releaseClaims("main", { workers: ["dead"] });
      await store.releaseWorker("dead");
      return claimed;
    };
    /** Past the time Marketo surely finished any call of the dead process. */
    const settle = () => sandbox.clock.set(new Date(now() + 61_000));
    const byEmail = async (email: string) => {
      const rows: Record<string, unknown>[] = [];
      for await (const page of plain.getLeadsByFilter({
        filterType: "email",
        filterValues: [email],
        fields: ["id", "email", "firstName", "company"],
      })) {
        rows.push(...page);
      }
      return rows;
    };
    /** Activities of a type per Marketo lead, over the last day. */
    const activitiesPerLead = async (type: number, leadIds: readonly number[]) => {
      const counts = new Map<number, number>();
      for await (const page of plain.getLeadActivities({
        activityTypeIds: [type],
        leadIds,
        since: new Date(now() - 24 * 3_600_000),
      })) {
        for (const a of page) counts.set(a.leadId, (counts.get(a.leadId) ?? 0) + 1);
      }
      return leadIds.map((id) => counts.get(id) ?? 0);
    };
    return {
      sandbox,
      store,
      path,
      plain,
      client,
      dispatcher,
      now,
      marks,
      diedWithCallOut,
      settle,
      byEmail,
      activitiesPerLead,
    };
  };
}

/** A lead for the store as intake would add it, its raw row the same as its input. */
export function onceLead(route: Route, input: Record<string, unknown>, key: string): NewLead {
  return { destination: "main", route, raw: input, input, intakeKey: key };
}
