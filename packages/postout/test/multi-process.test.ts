import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type Child, spawnNode } from "./node-child.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";

/**
 * Several `postout serve` processes on one PostgreSQL, as they run in production: 3 processes,
 * 20 Marketo instances (one sandbox process hosting them), leads posted to all three over HTTP
 * on an upsert route and on createDuplicate (where a resend makes a second person), and one
 * process killed with SIGKILL at three moments (holding leases before its first round, with
 * calls in flight, right after answering 202 to a batch) and started again each time.
 *
 * Ends with: every lead once in Marketo (counted in the sandbox's records), each destination
 * leased to one live process and shares of about 20 ÷ 3, the dead process's destinations
 * sending again within the lease + 5 s of the kill, and no 606/615 caused by Postout.
 */

const POSTOUT = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const SANDBOX = fileURLToPath(new URL("../../sandbox/bin/marketo-sandbox.ts", import.meta.url));

const DESTINATIONS = 20;
const PROCESSES = 3;
/** Short, so a dead process's destinations move within seconds (the default is 15 s). */
const LEASE_MS = 3000;
const TICK_MS = 100;
/** The proof's bound: a dead process's destinations send again within the lease + 5 s. */
const TAKEOVER_BOUND_MS = LEASE_MS + 5000;
const FAIR_SHARE = Math.ceil(DESTINATIONS / PROCESSES);
const API_KEY = "multi-process-test-key-0123456789";
const ROUTES = ["createOrUpdate", "createDuplicate"] as const;
type Action = (typeof ROUTES)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it answers a value other than undefined; fails naming `what` after `timeoutMs`. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await sleep(everyMs);
  }
}

/** Every child started, ended by SIGKILL at cleanup whatever happened. */
const children = new Set<Child>();

async function killHard(c: Child): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
  await c.exited;
  children.delete(c);
}

interface Instance {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** One `postout serve` process. */
interface Serve {
  readonly proc: Child;
  readonly url: string;
  /** Its worker id starts with this (gateway.ts: host:pid:random). */
  readonly workerPrefix: string;
  alive: boolean;
}

/** A lead this test posted: its email and last name are its own, so it is found and counted in Marketo. */
interface Lead {
  readonly key: string;
  readonly email: string;
  readonly destination: string;
  readonly action: Action;
  /** When its first POST was sent. */
  readonly postedAt: number;
  /** Its id in the gateway once a process answered 202. */
  id?: number | undefined;
}

describe("several postout serve processes on one PostgreSQL", () => {
  let cluster: PostgresCluster | undefined;
  let dir: string;
  let db: pg.Client | undefined;
  /** Ends the test's trickle of leads (a failed assertion must not leave it posting). */
  let stopPump = () => {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-multi-"));
  });

  after(async () => {
    stopPump();
    // Whatever happened: every child killed, the database client closed, the cluster gone.
    await Promise.all([...children].map((c) => killHard(c)));
    await db?.end().catch(() => {});
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("3 processes, 20 destinations, kill -9 at 3 moments: every lead once in Marketo, takeover within the lease + 5 s, no self-caused 606/615", {
    timeout: 600_000,
  }, async () => {
    const started = Date.now();
    cluster = await startCluster();
    const dbUrl = await cluster.createDatabase();
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const sql = db;

    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
      ),
    );
    env.POSTOUT_API_KEY = API_KEY;
    env.POSTOUT_SECRET_KEY = randomBytes(32).toString("base64");
    env.NO_COLOR = "1";

    // One sandbox process hosting the 20 Marketo instances, with Marketo's limits and latency
    // (a sync takes 300 ms + 1 ms a record, so a kill can land while calls are in flight).
    const sandbox = await spawnNode(
      [SANDBOX, "--instances", String(DESTINATIONS), "--json"],
      { cwd: dir, env },
      /^\{.*\}\n/m,
      children,
    );
    const instances = (JSON.parse(sandbox.match[0]) as { instances: Instance[] }).instances;
    assert.equal(instances.length, DESTINATIONS);
    const names = instances.map((_, i) => `mkto${String(i).padStart(2, "0")}`);
    const instanceOf = new Map(names.map((n, i) => [n, instances[i] as Instance]));

    const configPath = join(dir, "postout.config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        destinations: names.map((name, i) => ({
          name,
          baseUrl: instances[i]?.url,
          clientId: instances[i]?.clientId,
          clientSecret: instances[i]?.clientSecret,
        })),
        scheduler: { leaseMs: LEASE_MS, tickMs: TICK_MS },
        // The sandbox finishes a call in well under a second: a cut-off call is settled soon.
        verify: { settleMs: 1500 },
        retry: { scheduleMs: [1000, 2000, 5000] },
      }),
    );

    const startServe = async (): Promise<Serve> => {
      const { child, match } = await spawnNode(
        [POSTOUT, "serve", "--port", "0", "--db", dbUrl, "--config", configPath],
        { cwd: dir, env },
        /listening on (http:\/\/\S+)[\s\S]*X-API-Key/,
        children,
      );
      return {
        proc: child,
        url: (match[1] as string).replace(/\/$/, ""),
        workerPrefix: `${hostname()}:${child.pid}:`,
        alive: true,
      };
    };

    const serves: Serve[] = await Promise.all(Array.from({ length: PROCESSES }, startServe));
    const live = () => serves.filter((s) => s.alive);
    const api = async (s: Serve, path: string, init: RequestInit = {}) =>
      fetch(`${s.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        signal: AbortSignal.timeout(10_000),
      });

    // --- Leads, posted over HTTP to any live process ---------------------------------------
    const run = randomBytes(3).toString("hex");
    const leads: Lead[] = [];
    let seq = 0;
    let roundRobin = 0;
    const make = (destination: string, action: Action, n: number): Lead[] =>
      Array.from({ length: n }, () => {
        seq += 1;
        const key = `${run}-${action === "createDuplicate" ? "cd" : "cu"}-${seq}`;
        const lead: Lead = {
          key,
          email: `${key}@multi.example.com`,
          destination,
          action,
          postedAt: Date.now(),
        };
        leads.push(lead);
        return lead;
      });

    /**
     * Posts a batch until a process answers 202: to `via` first when given, then to the live
     * processes in turn. A POST cut off by a kill is sent again as it was; the intake key (route +
     * row) makes a batch the dead process had stored count once.
     */
    const post = async (batch: readonly Lead[], via?: Serve): Promise<Serve> => {
      const first = batch[0] as Lead;
      const body = JSON.stringify({
        destination: first.destination,
        route: { endpoint: "syncLeads", action: first.action, lookupField: "email" },
        leads: batch.map((l) => ({
          email: l.email,
          firstName: "Multi",
          lastName: l.key,
          company: `run ${run}`,
        })),
      });
      const errors: string[] = [];
      for (let attempt = 0; attempt < 50; attempt++) {
        const candidates = live();
        const target =
          attempt === 0 && via?.alive
            ? via
            : candidates[roundRobin++ % Math.max(1, candidates.length)];
        if (target) {
          try {
            const res = await api(target, "/v1/leads", { method: "POST", body });
            if (res.status === 202) {
              const json = (await res.json()) as { ids: number[] };
              assert.equal(json.ids.length, batch.length, "one id per lead posted");
              batch.forEach((l, i) => {
                l.id = json.ids[i];
              });
              return target;
            }
            errors.push(`${res.status} ${await res.text()}`);
          } catch (error) {
            errors.push(String(error));
          }
        }
        await sleep(100);
      }
      throw new Error(`a batch was refused 50 times: ${errors.slice(-5).join(" | ")}`);
    };

    /**
     * A steady trickle over every destination and both routes, through every live process, from
     * the first kill on.
     */
    let pumping = true;
    stopPump = () => {
      pumping = false;
    };
    const pumpErrors: unknown[] = [];
    const startPump = async () => {
      for (let i = 0; pumping && i < 100_000; i++) {
        const destination = names[i % DESTINATIONS] as string;
        const action = ROUTES[Math.floor(i / DESTINATIONS) % 2] as Action;
        try {
          await post(make(destination, action, 4));
        } catch (error) {
          pumpErrors.push(error);
        }
        await sleep(100);
      }
    };

    // --- Figures the gateways report, kept per process (a killed one's are its last seen) -----
    const throttledSeen = new Map<number, { self: number; foreign: number }>();
    const readThrottled = async (s: Serve) => {
      const res = await api(s, "/v1/destinations");
      const json = (await res.json()) as {
        destinations: { throttled: Record<string, { self: number; foreign: number }> }[];
      };
      const sum = { self: 0, foreign: 0 };
      for (const d of json.destinations)
        for (const code of ["606", "615"]) {
          sum.self += d.throttled[code]?.self ?? 0;
          sum.foreign += d.throttled[code]?.foreign ?? 0;
        }
      throttledSeen.set(s.proc.pid, sum);
    };
    const readAllThrottled = () => Promise.all(live().map((s) => readThrottled(s).catch(() => {})));

    // --- Leases, read from the shared database ----------------------------------------------
    const leases = async () =>
      (
        await sql.query<{ destination: string; owner: string; expires_at: string }>(
          "SELECT destination, owner, expires_at FROM destination_leases",
        )
      ).rows.map((r) => ({ ...r, expiresAt: Number(r.expires_at) }));
    const ownerOf = (owner: string) => serves.find((s) => owner.startsWith(s.workerPrefix));
    /** Every destination leased (unexpired) to a live process, each owning ⌊20/3⌋ or ⌈20/3⌉. */
    const fairShares = async () => {
      const now = Date.now();
      const rows = (await leases()).filter((r) => r.expiresAt > now && ownerOf(r.owner)?.alive);
      if (rows.length !== DESTINATIONS) return undefined;
      const shares = live().map(
        (s) => rows.filter((r) => r.owner.startsWith(s.workerPrefix)).length,
      );
      return shares.every(
        (n) => n >= DESTINATIONS - FAIR_SHARE * (PROCESSES - 1) && n <= FAIR_SHARE,
      )
        ? shares
        : undefined;
    };
    const ownedBy = async (s: Serve) =>
      (await leases())
        .filter((r) => r.owner.startsWith(s.workerPrefix) && r.expiresAt > Date.now())
        .map((r) => r.destination)
        .sort();

    const sandboxState = async (destination: string) => {
      const res = await fetch(`${instanceOf.get(destination)?.url}/_sandbox/state`, {
        signal: AbortSignal.timeout(10_000),
      });
      return (await res.json()) as { calls: { byCode: Record<string, number>; inFlight: number } };
    };

    /**
     * After a kill: a batch on each route to each destination the dead process held, through a
     * live process; then, per destination, the time from the kill to the first delivered attempt
     * of a lead posted after it.
     */
    const takeover = async (moment: string, killedAt: number, dead: readonly string[]) => {
      await Promise.all(dead.flatMap((d) => ROUTES.map((action) => post(make(d, action, 2)))));
      const firstDelivered = async () => {
        const ids = leads
          .filter((l) => l.postedAt >= killedAt && dead.includes(l.destination) && l.id)
          .map((l) => l.id as number);
        const { rows } = await sql.query<{ destination: string; first: string }>(
          `SELECT l.destination, min(a.at) AS first FROM attempts a JOIN leads l ON l.id = a.lead_id
           WHERE a.lead_id = ANY($1::bigint[]) AND a.status_code = '200' GROUP BY l.destination`,
          [ids],
        );
        return rows.length === dead.length ? rows : undefined;
      };
      const rows = await until(
        `${moment}: each of the dead process's ${dead.length} destinations delivering again`,
        firstDelivered,
        30_000,
        200,
      );
      const delays = rows.map((r) => Number(r.first) - killedAt);
      const figure = {
        moment,
        destinations: dead.length,
        firstMs: Math.min(...delays),
        lastMs: Math.max(...delays),
      };
      takeovers.push(figure);
      return figure;
    };
    const takeovers: { moment: string; destinations: number; firstMs: number; lastMs: number }[] =
      [];

    const victimIndex = PROCESSES - 1;
    const restartVictim = async (moment: string) => {
      serves[victimIndex] = await startServe();
      await until(`${moment}: fair shares again after the restart`, fairShares, 30_000, 200);
    };
    /** SIGKILL, at once: the counters of the process were read before the moment began. */
    const kill = async (s: Serve) => {
      s.alive = false;
      const at = Date.now();
      await killHard(s.proc);
      return at;
    };

    // Shares settle once all three have balanced; no lead has been posted yet.
    const initialShares = await until("fair shares at start", fairShares, 30_000, 200);

    // 1. Killed holding its leases before its first round (nothing was due yet).
    let victim = serves[victimIndex] as Serve;
    let dead = await ownedBy(victim);
    assert.ok(dead.length > 0, "the victim holds leases before its first round");
    const before = await sql.query<{ leads: string; attempts: string }>(
      "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM attempts) AS attempts",
    );
    assert.deepEqual(before.rows[0], { leads: "0", attempts: "0" }, "no lead, so no round yet");
    await readAllThrottled();
    let killedAt = await kill(victim);
    const pump = startPump();
    const k1 = await takeover("before its first round", killedAt, dead);
    await restartVictim("kill 1");

    // 2. Killed with calls in flight: a burst to its destinations, then the kill as soon as one
    // of its Marketo instances has a call of ours in flight (only the lease holder calls it).
    victim = serves[victimIndex] as Serve;
    dead = await ownedBy(victim);
    await readAllThrottled();
    const others = live().filter((s) => s !== victim);
    await Promise.all(
      dead.flatMap((d) =>
        ROUTES.map((action, i) => post(make(d, action, 40), others[i % others.length])),
      ),
    );
    // The victim's leads whose call is on the wire now (marked before it leaves), createDuplicate
    // among them, on an instance that has a call in flight.
    const onWire = async () =>
      (
        await sql.query<{ id: string; destination: string; action: string }>(
          `SELECT id, destination, route::jsonb ->> 'action' AS action FROM leads
           WHERE status = 'sending' AND claimed_by LIKE $1 AND wire_at IS NOT NULL`,
          [`${victim.workerPrefix}%`],
        )
      ).rows;
    const inFlightAt = await until(
      "kill 2: a createDuplicate call of the victim in flight",
      async () => {
        const marked = await onWire();
        const cd = marked.find((r) => r.action === "createDuplicate");
        if (!cd) return undefined;
        return (await sandboxState(cd.destination)).calls.inFlight > 0 ? cd.destination : undefined;
      },
      20_000,
      10,
    );
    killedAt = await kill(victim);
    // Cut off by the kill: still marked, their answers never recorded.
    const cutOff = (await onWire()).map((r) => ({ id: Number(r.id), action: r.action }));
    const k2 = await takeover("with calls in flight", killedAt, dead);
    await restartVictim("kill 2");

    // 3. Killed right after answering 202 to a batch for one of its destinations.
    victim = serves[victimIndex] as Serve;
    dead = await ownedBy(victim);
    const batch = make(dead[0] as string, "createDuplicate", 50);
    const body = JSON.stringify({
      destination: dead[0],
      route: { endpoint: "syncLeads", action: "createDuplicate", lookupField: "email" },
      leads: batch.map((l) => ({
        email: l.email,
        firstName: "Multi",
        lastName: l.key,
        company: `run ${run}`,
      })),
    });
    await readAllThrottled();
    const accepted = await api(victim, "/v1/leads", { method: "POST", body });
    const acceptedBody = await accepted.text();
    killedAt = await kill(victim);
    assert.equal(accepted.status, 202, acceptedBody);
    const acceptedIds = (JSON.parse(acceptedBody) as { ids: number[] }).ids;
    batch.forEach((l, i) => {
      l.id = acceptedIds[i];
    });
    const k3 = await takeover("right after a batch was accepted", killedAt, dead);
    await restartVictim("kill 3");

    // Keep posting a little with all three back, then stop and wait for every lead to settle.
    await sleep(3000);
    pumping = false;
    await pump;
    assert.deepEqual(pumpErrors, [], "every batch was accepted by some process");
    assert.ok(
      leads.every((l) => l.id !== undefined),
      "every lead posted has an id",
    );
    const ids = new Set(leads.map((l) => l.id));
    assert.equal(ids.size, leads.length, "one gateway lead per lead posted");

    const counts = await until(
      "every lead delivered or needs_fix",
      async () => {
        const res = await api(live()[0] as Serve, "/v1/leads?limit=1");
        const { counts } = (await res.json()) as { counts: Record<string, number> };
        const settled = (counts.delivered ?? 0) + (counts.needs_fix ?? 0);
        return settled === leads.length ? counts : undefined;
      },
      120_000,
      500,
    );

    // How the leads cut off by kill 2 were settled: found in Marketo by a lookup (a row of 0 ms
    // with code 200) or sent again.
    const settledCutOff = (
      await sql.query<{ action: string; proven: string; resent: string; uncertain: string }>(
        `SELECT route::jsonb ->> 'action' AS action,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = l.id
             AND a.status_code = '200' AND a.duration_ms = 0)) AS proven,
           count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = l.id
             AND a.status_code = '200' AND a.duration_ms = 0)) AS resent,
           count(*) FILTER (WHERE l.status = 'needs_fix') AS uncertain
         FROM leads l WHERE id = ANY ($1::bigint[]) GROUP BY 1 ORDER BY 1`,
        [cutOff.map((c) => c.id)],
      )
    ).rows.map((r) => ({
      action: r.action,
      foundByLookup: Number(r.proven),
      sentAgain: Number(r.resent),
      needsFix: Number(r.uncertain),
    }));

    // Every lead once in Marketo: counted by its own last name in every instance's records.
    const found = new Map<string, { destination: string; n: number; marketoId: number }[]>();
    let sandbox606 = 0;
    let sandbox615 = 0;
    for (const name of names) {
      const base = instanceOf.get(name)?.url;
      let after = 0;
      for (let page = 0; page < 1000; page++) {
        const res = await fetch(`${base}/_sandbox/records?limit=10000&after=${after}`);
        const json = (await res.json()) as {
          // Each lead as stored: id, createdAt, … and its fields, flat.
          leads: Record<string, unknown>[];
          next: { after: number | null };
        };
        for (const l of json.leads) {
          const key = l.lastName;
          if (typeof key !== "string" || !key.startsWith(run)) continue;
          const where = found.get(key) ?? [];
          const here = where.find((w) => w.destination === name);
          if (here) here.n += 1;
          else where.push({ destination: name, n: 1, marketoId: Number(l.id) });
          found.set(key, where);
        }
        if (json.next.after === null) break;
        after = json.next.after;
      }
      const { calls } = await sandboxState(name);
      sandbox606 += calls.byCode["606"] ?? 0;
      sandbox615 += calls.byCode["615"] ?? 0;
    }
    const missing = leads.filter((l) => !found.has(l.key));
    const twice = leads.filter((l) => (found.get(l.key) ?? []).reduce((a, w) => a + w.n, 0) > 1);
    const misplaced = leads.filter((l) =>
      (found.get(l.key) ?? []).some((w) => w.destination !== l.destination),
    );

    // Each lead's Marketo id in the gateway is the person found for it (a cut-off create found
    // by a lookup is attributed to its own person, not another lead's).
    const marketoIds = new Map(
      (
        await sql.query<{ id: string; marketo_id: string | null }>(
          "SELECT id, marketo_id FROM leads",
        )
      ).rows.map((r) => [Number(r.id), r.marketo_id === null ? undefined : Number(r.marketo_id)]),
    );
    const misattributed = leads.filter((l) => {
      const person = found.get(l.key)?.[0];
      return person !== undefined && marketoIds.get(l.id as number) !== person.marketoId;
    });

    await readAllThrottled();
    const self = [...throttledSeen.values()].reduce((a, t) => a + t.self, 0);
    const foreign = [...throttledSeen.values()].reduce((a, t) => a + t.foreign, 0);
    const finalShares = await until("fair shares at the end", fairShares, 30_000, 200);

    const perRoute = Object.fromEntries(
      ROUTES.map((r) => [r, leads.filter((l) => l.action === r).length]),
    );
    const report = {
      runMs: Date.now() - started,
      leads: leads.length,
      perRoute,
      statuses: counts,
      takeovers,
      leaseMs: LEASE_MS,
      kill2: { inFlightAt, cutOff: cutOff.length, settledCutOff },
      shares: { initial: initialShares, final: finalShares },
      throttledByGateways: { self, foreign },
      sandbox: { "606": sandbox606, "615": sandbox615 },
      missing: missing.slice(0, 10).map((l) => `${l.key} → ${l.destination}`),
      twice: twice.slice(0, 10).map((l) => `${l.key} ${JSON.stringify(found.get(l.key))}`),
      misplaced: misplaced.length,
      misattributed: misattributed.length,
    };
    process.stderr.write(`multi-process figures: ${JSON.stringify(report, null, 2)}\n`);

    assert.deepEqual(
      missing.map((l) => l.key),
      [],
      "no lead missing in Marketo",
    );
    assert.deepEqual(
      twice.map((l) => l.key),
      [],
      "no lead twice in Marketo",
    );
    assert.equal(misplaced.length, 0, "every lead in its own destination's instance");
    assert.deepEqual(
      misattributed.slice(0, 10).map((l) => l.key),
      [],
      "each lead's Marketo id in the gateway is its own person's",
    );
    assert.ok(
      cutOff.some((c) => c.action === "createDuplicate"),
      "kill 2 cut off createDuplicate calls (the route where a resend makes a second person)",
    );
    for (const k of [k1, k2, k3])
      assert.ok(
        k.lastMs <= TAKEOVER_BOUND_MS,
        `${k.moment}: the dead process's destinations delivered again ${k.lastMs} ms after the kill (bound ${TAKEOVER_BOUND_MS})`,
      );
    assert.equal(self, 0, "no 606/615 caused by Postout's own calls");
    assert.equal(sandbox606 + sandbox615, 0, "no 606/615 answered by any instance");
    assert.equal(
      finalShares.reduce((a, b) => a + b, 0),
      DESTINATIONS,
    );
  });
});
