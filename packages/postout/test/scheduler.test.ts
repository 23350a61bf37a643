import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MarketoClient } from "@postout/marketo";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { Dispatcher } from "../src/dispatcher.ts";
import type { Route } from "../src/route.ts";
import { Scheduler } from "../src/scheduler.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { NewLead, Store } from "../src/store/store.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const LEASE = 15_000;

/** The store, with every method call it answers counted by name. */
function counted(store: Store): { store: Store; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push([String(prop), args]);
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe("scheduler against the sandbox over HTTP", () => {
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ latency: false, timeScale: 0.01, seed: 7 });
    // The scheduler, its dispatchers and the client read this clock: time moves when a test says.
    sandbox.clock.freeze();
    dir = mkdtempSync(join(tmpdir(), "postout-scheduler-"));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  function setup(destinations: number) {
    n += 1;
    sandbox.reset();
    sandbox.faults.clear();
    const sqlite = new SqliteStore(join(dir, `s${n}.db`));
    const { store, calls } = counted(sqlite);
    const now = () => sandbox.clock.now();
    const client = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      now,
      retry: { maxAttempts: 1 },
    });
    const worker = `w${n}`;
    const names = Array.from({ length: destinations }, (_, i) => `d${String(i).padStart(4, "0")}`);
    const dispatchers = new Map(
      names.map((destination) => [
        destination,
        new Dispatcher({ store, destination, client, worker, now }),
      ]),
    );
    const scheduler = new Scheduler({
      store,
      worker,
      now,
      leaseMs: LEASE,
      destinations: () => names,
      dispatcher: (name) => dispatchers.get(name),
      onError: (error) => {
        throw error;
      },
    });
    return { sqlite, store, calls, now, names, scheduler, worker };
  }
  const lead = (i: number, destination: string): NewLead => ({
    destination,
    route: SYNC,
    raw: { i },
    input: { email: `lead${i}@example.com` },
    intakeKey: `k${i}`,
  });
  const claimedDestinations = (calls: [string, unknown[]][]) =>
    new Set(calls.filter(([name]) => name === "claimDue").map(([, args]) => args[0]));

  it("runs rounds only for the destinations with due leads, found in one query", async () => {
    const { sqlite, store, calls, now, names, scheduler } = setup(50);
    const due = [names[5], names[17], names[33]] as string[];
    await store.addLeads(
      due.flatMap((d, i) => [lead(2 * i, d), lead(2 * i + 1, d)]),
      now(),
    );
    await scheduler.tick();
    await scheduler.settled();
    assert.equal(scheduler.owned.size, 50, "one worker owns every destination");
    assert.deepEqual(claimedDestinations(calls), new Set(due));
    assert.equal(calls.filter(([name]) => name === "dueDestinations").length, 1);
    assert.equal((await sqlite.countByStatus({})).delivered, 6);
    assert.equal(sandbox.state().leads, 6);
    await sqlite.close();
  });

  it("respects a destination's pause: its leads are held, not sent, until the pause ends", async () => {
    const { sqlite, store, calls, now, names, scheduler } = setup(3);
    const paused = names[1] as string;
    await store.setDestinationPause(
      paused,
      { until: now() + 60_000, code: "607", reason: "quota" },
      now(),
    );
    await store.addLeads([lead(1, paused), lead(2, names[2] as string)], now());
    await scheduler.tick();
    await scheduler.settled();
    assert.deepEqual(await sqlite.countByStatus({ destination: paused }), {
      ...(await sqlite.countByStatus({ destination: "none" })),
      paused: 1,
    });
    assert.equal(sandbox.state().leads, 1, "only the other destination's lead was sent");
    calls.length = 0;
    // Held leads are due at the end of the pause: no round for it before then.
    sandbox.clock.advance(30_000);
    await scheduler.tick();
    await scheduler.settled();
    assert.deepEqual(claimedDestinations(calls), new Set());
    sandbox.clock.advance(30_001);
    await scheduler.tick();
    await scheduler.settled();
    assert.equal((await sqlite.countByStatus({ destination: paused })).delivered, 1);
    await sqlite.close();
  });

  it("starts no round once too little of its lease is left", async () => {
    const { sqlite, store, calls, now, names, scheduler } = setup(2);
    await scheduler.tick();
    // The database refuses the next balance: the leases are not renewed.
    const balance = sqlite.balance.bind(sqlite);
    sqlite.balance = () => Promise.reject(new Error("database is locked"));
    sandbox.clock.advance((LEASE * 2) / 3 + 1);
    await store.addLeads([lead(1, names[0] as string)], now());
    await assert.rejects(scheduler.tick(), /locked/);
    scheduler.wake(names[0] as string);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await scheduler.settled();
    assert.deepEqual(claimedDestinations(calls), new Set());
    sqlite.balance = balance;
    await scheduler.tick();
    await scheduler.settled();
    assert.equal((await sqlite.countByStatus({})).delivered, 1);
    await sqlite.close();
  });

  it("on stop, finishes its rounds and gives up its leases: another worker takes them at once", async () => {
    const { sqlite, store, now, names, scheduler } = setup(4);
    await store.addLeads([lead(1, names[0] as string)], now());
    scheduler.start();
    // Polls on a loaded machine: up to 10 s, done as soon as the lead is delivered.
    for (let i = 0; i < 400 && (await sqlite.countByStatus({})).delivered < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await scheduler.stop();
    assert.equal((await sqlite.countByStatus({})).delivered, 1);
    assert.equal(scheduler.owned.size, 0);
    await store.heartbeat("next", now(), LEASE);
    assert.deepEqual(await store.balance("next", names, now(), LEASE), names);
    await sqlite.close();
  });

  it("costs one store query per idle tick with 1,000 destinations, and three when it balances", async () => {
    const { sqlite, calls, names, scheduler } = setup(1000);
    await scheduler.tick();
    assert.equal(scheduler.owned.size, 1000);
    assert.deepEqual(
      calls.map(([name]) => name),
      ["heartbeat", "balance", "dueDestinations"],
    );
    calls.length = 0;
    const ticks = 20;
    for (let i = 0; i < ticks; i++) {
      sandbox.clock.advance(250);
      await scheduler.tick();
    }
    // 20 ticks of 250 ms = 5 s = leaseMs / 3: the last one balances again.
    assert.deepEqual(
      calls.map(([name]) => name),
      [...Array(ticks - 1).fill("dueDestinations"), "heartbeat", "balance", "dueDestinations"],
    );
    const [, [asked]] = calls.at(-1) as [string, unknown[]];
    assert.equal(
      (asked as string[]).length,
      names.length,
      "every owned destination in the one query",
    );
    await sqlite.close();
  });
});

describe("scheduler in the background, on a running clock", () => {
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ latency: false, timeScale: 0.01, seed: 7 });
    dir = mkdtempSync(join(tmpdir(), "postout-scheduler-bg-"));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  function setup(
    options: { store?: SqliteStore; minRoundIntervalMs?: number; errors?: unknown[] } = {},
  ) {
    n += 1;
    sandbox.reset();
    sandbox.faults.clear();
    const store = options.store ?? new SqliteStore(join(dir, `bg${n}.db`));
    const now = () => sandbox.clock.now();
    const client = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      now,
    });
    const worker = `bg${n}`;
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client,
      worker,
      now,
      // A claim whose round failed is given back at the next balance, not 5 min later.
      leaseMs: 1,
      ...(options.minRoundIntervalMs === undefined
        ? {}
        : { minRoundIntervalMs: options.minRoundIntervalMs }),
    });
    const errors = options.errors ?? [];
    const scheduler = new Scheduler({
      store,
      worker,
      now,
      // Balances every 100 ms: a failed round's claims come back within a few ticks.
      leaseMs: 300,
      tickMs: 20,
      destinations: () => ["main"],
      dispatcher: (name) => (name === "main" ? dispatcher : undefined),
      onError: (error) => errors.push(error),
    });
    return { store, scheduler, now, errors };
  }
  const lead = (i: number): NewLead => ({
    destination: "main",
    route: SYNC,
    raw: { i },
    input: { email: `lead${i}@example.com`, firstName: `L${i}` },
    intakeKey: `k${i}`,
  });
  /** Polls on a loaded machine: up to 10 s, done as soon as `count` leads are delivered. */
  async function delivered(store: Store, count: number): Promise<number> {
    for (let i = 0; i < 400 && (await store.countByStatus({})).delivered < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return (await store.countByStatus({})).delivered;
  }

  it("a trickle of leads is delivered while earlier calls are in flight; stop waits for them", async () => {
    const { store, scheduler, now } = setup();
    scheduler.start();
    try {
      for (let i = 0; i < 20; i++) {
        await store.addLeads([lead(100 + i)], now());
        scheduler.wake("main");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(await delivered(store, 20), 20);
    } finally {
      await scheduler.stop();
    }
    assert.equal((await store.countByStatus({})).sending, 0, "stop waits for rounds in flight");
    await store.close();
  });

  it("keeps running after a round fails to record, and delivers the leads it had claimed", async () => {
    class FailsOnce extends SqliteStore {
      failures = 1;
      override async recordAttempts(...args: Parameters<SqliteStore["recordAttempts"]>) {
        if (this.failures-- > 0) throw new Error("disk I/O error");
        return super.recordAttempts(...args);
      }
    }
    const errors: unknown[] = [];
    const { store, scheduler, now } = setup({
      store: new FailsOnce(join(dir, `fails-once-${n}.db`)),
      errors,
    });
    const { ids } = await store.addLeads([lead(1)], now());
    scheduler.start();
    try {
      assert.equal(await delivered(store, 1), 1);
    } finally {
      await scheduler.stop();
    }
    assert.equal((await store.getLead(ids[0] as number))?.status, "delivered");
    assert.match(String(errors[0]), /disk I\/O error/);
    assert.equal(sandbox.state().leads, 1);
    await store.close();
  });

  it("paces rounds: leads woken in quick succession share a call", async () => {
    const { store, scheduler, now } = setup({ minRoundIntervalMs: 400 });
    scheduler.start();
    try {
      for (let i = 0; i < 10; i++) {
        await store.addLeads([lead(200 + i)], now());
        scheduler.wake("main");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(await delivered(store, 10), 10);
    } finally {
      await scheduler.stop();
    }
    const syncs = sandbox
      .calls()
      .filter((c) => c.method === "POST" && c.path === "/rest/v1/leads.json");
    assert.ok(
      syncs.length <= 4,
      `10 leads in ~100 ms went out in ${syncs.length} calls, not one each`,
    );
    await store.close();
  });
});
