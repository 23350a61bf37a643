/**
 * A steady trickle to 1,000 destinations across 3 processes on PostgreSQL (issue 13), printed
 * as one Markdown section; progress on stderr.
 * - One `marketo-sandbox` process hosts 1,000 Marketo instances at Marketo's real limits (100
 *   calls / 20 s and 10 in flight each) with Marketo-like latency (a sync 300 ms + 1 ms a record).
 * - 3 `postout serve` processes on one PostgreSQL (durable: fsync on); the 1,000 destinations
 *   are created at runtime through POST /v1/destinations, one per instance.
 * - Idle cost: with no leads, once the leases are balanced, each process's CPU and the
 *   database's transactions and statements per second over 30 s.
 * - The trickle: 2,000 leads/s in all, 2 leads a request for one destination, each destination
 *   posted once a second, the requests spread round robin over the 3 processes (as a load
 *   balancer would). Accepted → recorded per lead from the database; fairness from the
 *   per-destination delivered rates; 606/615 from every instance's own state.
 * PostgreSQL, the sandbox, the three processes and the load generator share this machine's cores.
 * Run: node bench/trickle.bench.ts  (from packages/postout; `node bench/run.ts trickle`)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os, { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type Child, spawnNode } from "../test/node-child.ts";
import { startCluster } from "../test/postgres-cluster.ts";

const PROCESSES = 3;
const DESTINATIONS = Number(process.env.TRICKLE_DESTINATIONS ?? 1000);
const LEADS_PER_SECOND = Number(process.env.TRICKLE_RATE ?? 2000);
/** Leads in one request, all for one destination: a form backend flushing each second. */
const PER_REQUEST = 2;
const IDLE_MS = 30_000;
const WARMUP_MS = 15_000;
const MEASURE_MS = Number(process.env.TRICKLE_MEASURE_MS ?? 60_000);
const DRAIN_MS = 180_000;
/** Requests the load generator lets wait for an answer; past it, it falls behind (and says so). */
const MAX_IN_FLIGHT = 400;
const API_KEY = "bench-key-0123456789abcdefghij";
const SECRET_KEY = randomBytes(32).toString("base64");
const POSTOUT = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const SANDBOX = fileURLToPath(new URL("../../sandbox/bin/marketo-sandbox.ts", import.meta.url));
const ROUTE = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const progress = (line: string) => process.stderr.write(`trickle.bench: ${line}\n`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const name = (i: number) => `d${String(i).padStart(4, "0")}`;

/** Every child started, stopped at the end whatever happened. */
const children = new Set<Child>();

async function stopChild(c: Child): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGTERM");
  const late = setTimeout(() => c.child.kill("SIGKILL"), 15_000);
  await c.exited;
  clearTimeout(late);
  children.delete(c);
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds a process and the children it has waited for used (utime + stime + cutime +
 * cstime): PostgreSQL's postmaster counts its backends that exited.
 */
function cpuSecondsWithChildren(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, in seconds of all cores: busy (user + system), iowait, all. */
function machineCpu(): { busy: number; iowait: number; all: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1)
    .map((f) => Number(f) / 100);
  const busy =
    (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, iowait: iowait ?? 0, all: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** The pids of a process and its children (PostgreSQL's postmaster and its backends). */
function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {}
  }
  const out = [root];
  for (let i = 0; i < out.length && i < 10_000; i++)
    out.push(...(parents.get(out[i] as number) ?? []));
  return out;
}

// A socket left idle 4 s is closed here, before the server's 5 s keep-alive timeout closes it
// under a request being written (ECONNRESET).
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 });

/** One HTTP call to a serve process; answers status and JSON. */
function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          "content-type": "application/json",
          ...(data ? { "content-length": String(data.length) } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on("error", reject);
    req.end(data);
  });
}

interface Instance {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

const loadBefore = os.loadavg()[0] ?? 0;
const dir = mkdtempSync(join(os.tmpdir(), "postout-trickle-"));
const cluster = await startCluster({
  durable: true,
  settings: { shared_preload_libraries: "pg_stat_statements" },
});
const lines: string[] = [];
try {
  const db = await cluster.createDatabase();
  const sql = new pg.Client({ connectionString: db });
  await sql.connect();
  await sql.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const postmaster = Number(
    readFileSync(
      join(
        (await sql.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]
          ?.d as string,
        "postmaster.pid",
      ),
      "utf8",
    ).split("\n")[0],
  );
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
    ),
  );
  env.POSTOUT_API_KEY = API_KEY;
  env.POSTOUT_SECRET_KEY = SECRET_KEY;
  env.NO_COLOR = "1";

  progress(`starting one sandbox with ${DESTINATIONS} Marketo instances`);
  const sandbox = await spawnNode(
    [SANDBOX, "--instances", String(DESTINATIONS), "--json"],
    { cwd: dir, env, startMs: 120_000 },
    /^\{.*\}\n/m,
    children,
  );
  const root = JSON.parse(sandbox.match[0]) as Instance & { instances: Instance[] };
  // The config file names one destination (serve needs one to run without its built-in sandbox):
  // the sandbox's root instance, sent nothing. The 1,000 measured come through the API.
  const config = join(dir, "postout.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      destinations: [
        {
          name: "config-root",
          baseUrl: root.url,
          clientId: root.clientId,
          clientSecret: root.clientSecret,
        },
      ],
    }),
  );

  progress(`starting ${PROCESSES} serve processes`);
  const serves = await Promise.all(
    Array.from({ length: PROCESSES }, async (_, k) => {
      const { child, match } = await spawnNode(
        [
          // TRICKLE_PROFILE=dir: the first process writes a CPU profile there when it stops.
          ...(process.env.TRICKLE_PROFILE && k === 0
            ? ["--cpu-prof", "--cpu-prof-dir", process.env.TRICKLE_PROFILE]
            : []),
          POSTOUT,
          "serve",
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--db",
          db,
          "--config",
          config,
        ],
        { cwd: dir, env, startMs: 120_000 },
        /listening on (http:\/\/\S+)/,
        children,
      );
      return {
        child,
        url: (match[1] as string).replace(/\/$/, ""),
        worker: `${hostname()}:${child.pid}:`,
      };
    }),
  );

  progress(`creating ${DESTINATIONS} destinations through POST /v1/destinations`);
  const createdAt = performance.now();
  let nextCreate = 0;
  await Promise.all(
    Array.from({ length: 6 }, async (_, lane) => {
      const s = serves[lane % PROCESSES] as (typeof serves)[number];
      for (;;) {
        const i = nextCreate++;
        if (i >= DESTINATIONS) return;
        const instance = root.instances[i] as Instance;
        const res = await call(s.url, "POST", "/v1/destinations", {
          name: name(i),
          baseUrl: instance.url,
          clientId: instance.clientId,
          clientSecret: instance.clientSecret,
        });
        if (res.status !== 201)
          throw new Error(`create ${name(i)}: ${res.status} ${JSON.stringify(res.json)}`);
      }
    }),
  );
  const createSeconds = (performance.now() - createdAt) / 1000;

  // Balanced: every destination leased (unexpired) to one of the three, none more than its share ⌈n/3⌉.
  const total = DESTINATIONS + 1;
  const shares = async () => {
    const { rows } = await sql.query<{ owner: string; n: number }>(
      "SELECT owner, count(*)::int AS n FROM destination_leases WHERE expires_at > $1 GROUP BY owner",
      [Date.now()],
    );
    return serves.map((s) => rows.find((r) => r.owner.startsWith(s.worker))?.n ?? 0);
  };
  const balanceStarted = performance.now();
  let balanced: number[] = [];
  for (let i = 0; i < 240; i++) {
    balanced = await shares();
    const sum = balanced.reduce((a, b) => a + b, 0);
    if (sum === total && balanced.every((n) => n <= Math.ceil(total / PROCESSES))) break;
    await sleep(500);
  }
  const balanceSeconds = (performance.now() - balanceStarted) / 1000;
  progress(
    `leases ${balanced.join(" / ")} after ${fmt(balanceSeconds, 1)} s (created in ${fmt(createSeconds, 1)} s)`,
  );
  await sleep(5000);

  const dbCounters = async () => {
    const a = (
      await sql.query<{ x: string }>(
        "SELECT xact_commit + xact_rollback AS x FROM pg_stat_database WHERE datname = current_database()",
      )
    ).rows[0]?.x;
    const b = (
      await sql.query<{ c: string }>(
        "SELECT coalesce(sum(calls), 0) AS c FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
      )
    ).rows[0]?.c;
    return { xacts: Number(a), statements: Number(b) };
  };
  const topStatements = async (label: string) => {
    const { rows } = await sql.query<{ calls: string; ms: string; query: string }>(
      `SELECT calls, round(total_exec_time)::text AS ms, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT 12`,
    );
    progress(`${label}: statements by total time`);
    for (const r of rows) progress(`  ${r.ms} ms  ${r.calls} calls  ${r.query.slice(0, 150)}`);
  };
  const pgPids = () => processTree(postmaster);
  // The postmaster with the backends it waited for, and the backends alive now.
  const cpuOf = (pids: readonly number[]) =>
    pids.reduce(
      (sum, pid) => sum + (pid === postmaster ? cpuSecondsWithChildren(pid) : cpuSeconds(pid)),
      0,
    );
  /** CPU of each serve, of the database, of the sandbox, and the database's counters over `ms`. */
  const measure = async (ms: number, during?: () => Promise<void>) => {
    await sql.query("SELECT pg_stat_statements_reset()");
    const pids0 = pgPids();
    const machine0 = machineCpu();
    const cpu0 = serves.map((s) => cpuSeconds(s.child.pid));
    const pg0 = cpuOf(pids0);
    const sb0 = cpuSeconds(sandbox.child.pid);
    const self0 = process.cpuUsage();
    const db0 = await dbCounters();
    const t0 = performance.now();
    await (during ? during() : sleep(ms));
    const seconds = (performance.now() - t0) / 1000;
    const db1 = await dbCounters();
    return {
      seconds,
      serveCpu: serves.map((s, i) => ((cpuSeconds(s.child.pid) - (cpu0[i] ?? 0)) / seconds) * 100),
      // Backends that started during the measure count whole: they are new.
      pgCpu: ((cpuOf(pgPids()) - pg0) / seconds) * 100,
      machine: (() => {
        const m = machineCpu();
        const all = m.all - machine0.all;
        return {
          busy: ((m.busy - machine0.busy) / all) * os.cpus().length * 100,
          iowait: ((m.iowait - machine0.iowait) / all) * os.cpus().length * 100,
        };
      })(),
      sandboxCpu: ((cpuSeconds(sandbox.child.pid) - sb0) / seconds) * 100,
      // This process: the load generator (and the bench's own queries).
      generatorCpu: (() => {
        const u = process.cpuUsage(self0);
        return ((u.user + u.system) / 1e6 / seconds) * 100;
      })(),
      xactsPerSecond: (db1.xacts - db0.xacts) / seconds,
      // Less the two counter reads of this measure.
      statementsPerSecond: (db1.statements - db0.statements) / seconds,
    };
  };

  progress(`idle: ${IDLE_MS / 1000} s with no leads`);
  const idle = await measure(IDLE_MS);
  await topStatements("idle");
  progress(
    `idle: CPU ${idle.serveCpu.map((c) => fmt(c, 1)).join(" / ")} % per process, database ${fmt(idle.pgCpu, 1)} %, ${fmt(idle.xactsPerSecond)} transactions/s, ${fmt(idle.statementsPerSecond)} statements/s`,
  );

  // --- The trickle ---------------------------------------------------------------------------
  const sandboxCodes = async () => {
    const sums: Record<string, number> = {};
    for (let i = 0; i < DESTINATIONS; i += 50) {
      const states = await Promise.all(
        root.instances.slice(i, i + 50).map(async (inst) => {
          const res = await fetch(`${inst.url}/_sandbox/state`);
          return (await res.json()) as { calls: { byCode: Record<string, number> } };
        }),
      );
      for (const s of states)
        for (const [code, n] of Object.entries(s.calls.byCode)) sums[code] = (sums[code] ?? 0) + n;
    }
    return sums;
  };
  const waiting = async () =>
    Number(
      (
        await sql.query<{ n: string }>(
          "SELECT count(*) AS n FROM leads WHERE status IN ('queued', 'sending', 'retrying')",
        )
      ).rows[0]?.n,
    );
  const run = randomBytes(3).toString("hex");
  const requestsPerSecond = LEADS_PER_SECOND / PER_REQUEST;
  let sent = 0;
  let inFlight = 0;
  let refused = 0;
  let behind = 0;
  const errors: string[] = [];
  let seq = 0;
  let generating = true;
  const send = (k: number) => {
    const destination = k % DESTINATIONS;
    const s = serves[k % PROCESSES] as (typeof serves)[number];
    const leads = Array.from({ length: PER_REQUEST }, () => {
      seq += 1;
      return {
        email: `${run}-${seq}@d${destination}.example.com`,
        firstName: "Trickle",
        lastName: `L${seq}`,
        company: `Company ${destination}`,
      };
    });
    inFlight += 1;
    call(s.url, "POST", "/v1/leads", { destination: name(destination), route: ROUTE, leads })
      .then((res) => {
        if (res.status !== 202) {
          refused += 1;
          if (errors.length < 5)
            errors.push(`${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
        }
      })
      .catch((error: unknown) => {
        refused += 1;
        if (errors.length < 5) errors.push(String(error));
      })
      .finally(() => {
        inFlight -= 1;
      });
  };
  /** Open loop: the requests due by now are sent, unless MAX_IN_FLIGHT wait for answers. */
  const generate = async () => {
    const start = performance.now();
    for (let i = 0; generating && i < 10_000_000; i++) {
      const due = Math.floor(((performance.now() - start) / 1000) * requestsPerSecond);
      while (sent < due && inFlight < MAX_IN_FLIGHT) send(sent++);
      if (sent < due) behind = Math.max(behind, due - sent);
      await sleep(5);
    }
  };

  // Warm-up: every process posts once to every destination, and all is delivered, before the
  // clock starts. A process reads a destination's lead schema (describe) on its first intake for
  // it and every process takes a token per instance: 3,000 describes and tokens at a cold start,
  // which would otherwise be measured as the trickle.
  progress(`warm-up: one request through each process to each destination`);
  const warmStarted = performance.now();
  let nextWarm = 0;
  await Promise.all(
    Array.from({ length: 24 }, async () => {
      for (;;) {
        const k = nextWarm++;
        if (k >= DESTINATIONS * PROCESSES) return;
        const destination = k % DESTINATIONS;
        const s = serves[Math.floor(k / DESTINATIONS)] as (typeof serves)[number];
        const res = await call(s.url, "POST", "/v1/leads", {
          destination: name(destination),
          route: ROUTE,
          leads: [{ email: `${run}-warm-${k}@d${destination}.example.com`, lastName: "Warm" }],
        });
        if (res.status !== 202)
          throw new Error(`warm-up: ${res.status} ${JSON.stringify(res.json)}`);
      }
    }),
  );
  for (let i = 0; i < 600 && (await waiting()) > 0; i++) await sleep(500);
  progress(`warm-up: done in ${fmt((performance.now() - warmStarted) / 1000, 1)} s`);
  const codesBefore = await sandboxCodes();

  progress(
    `trickle: ${fmt(LEADS_PER_SECOND)} leads/s, ${PER_REQUEST} a request, warm-up ${WARMUP_MS / 1000} s`,
  );
  const generator = generate();
  await sleep(WARMUP_MS);
  const sentAtWarm = sent;
  progress(`trickle: measuring ${MEASURE_MS / 1000} s`);
  const from = Date.now();
  const busy = await measure(MEASURE_MS);
  const to = Date.now();
  const sentMeasured = sent - sentAtWarm;
  await topStatements("trickle");
  generating = false;
  await generator;
  for (let i = 0; inFlight > 0 && i < 600; i++) await sleep(100);
  progress(
    `trickle: ${fmt(sent)} requests sent (${fmt(sentMeasured / (MEASURE_MS / 1000))}/s measured), ${refused} refused, most behind ${behind}; CPU ${busy.serveCpu.map((c) => fmt(c)).join(" / ")} % per process, database ${fmt(busy.pgCpu)} %, sandbox ${fmt(busy.sandboxCpu)} %, load generator ${fmt(busy.generatorCpu)} %; the machine ${fmt(busy.machine.busy)} % busy of ${os.cpus().length * 100} %, ${fmt(busy.machine.iowait)} % iowait; ${fmt(busy.xactsPerSecond)} transactions/s, ${fmt(busy.statementsPerSecond)} statements/s`,
  );
  if (errors.length > 0) progress(`refusals: ${errors.join(" | ")}`);

  progress("draining");
  const drainStart = performance.now();
  while ((await waiting()) > 0 && performance.now() - drainStart < DRAIN_MS) await sleep(500);
  const codesAfter = await sandboxCodes();
  const codeDelta = (code: string) => (codesAfter[code] ?? 0) - (codesBefore[code] ?? 0);
  const calls = Object.keys(codesAfter).reduce((sum, code) => sum + codeDelta(code), 0);
  progress(
    `sandbox answers by code: ${Object.keys(codesAfter)
      .map((code) => `${code} ${codeDelta(code)}`)
      .join(", ")}`,
  );

  const byStatus = Object.fromEntries(
    (
      await sql.query<{ status: string; n: string }>(
        "SELECT status, count(*) AS n FROM leads GROUP BY status",
      )
    ).rows.map((r) => [r.status, Number(r.n)]),
  );
  // With the warm-up's leads.
  const accepted = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const delivered = byStatus.delivered ?? 0;
  // Accepted → recorded: leads.created_at (intake, before the 202) to the `at` of the attempt that
  // delivered it (Marketo's answer in hand, just before its record commits).
  const latency = (
    await sql.query<{ n: string; p50: number; p99: number; max: string }>(
      `SELECT count(*) AS n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY a.at - l.created_at) AS p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY a.at - l.created_at) AS p99,
         max(a.at - l.created_at) AS max
       FROM leads l JOIN attempts a ON a.lead_id = l.id AND a.outcome = 'delivered'
       WHERE l.created_at >= $1 AND l.created_at < $2`,
      [from, to],
    )
  ).rows[0];
  const p50 = (latency?.p50 ?? Number.NaN) / 1000;
  const p99 = (latency?.p99 ?? Number.NaN) / 1000;
  // Per destination, leads delivered within the measured minute ÷ its length.
  const rates = (
    await sql.query<{ destination: string; n: string }>(
      `SELECT d.destination, count(a.id) AS n
       FROM unnest($3::text[]) AS d (destination)
       LEFT JOIN attempts a ON a.destination = d.destination AND a.outcome = 'delivered'
         AND a.at >= $1 AND a.at < $2
       GROUP BY d.destination`,
      [from, to, Array.from({ length: DESTINATIONS }, (_, i) => name(i))],
    )
  ).rows.map((r) => Number(r.n) / ((to - from) / 1000));
  const slowest = Math.min(...rates);
  const fastest = Math.max(...rates);
  const fairness = fastest > 0 ? slowest / fastest : 0;
  const c606 = codeDelta("606");
  const c615 = codeDelta("615");
  progress(
    `delivered ${fmt(delivered)} of ${fmt(accepted)} (${JSON.stringify(byStatus)}); ${fmt(calls)} Marketo calls = ${fmt((delivered - DESTINATIONS * PROCESSES) / Math.max(1, calls), 1)} leads a call; p50 ${fmt(p50, 2)} s, p99 ${fmt(p99, 2)} s, max ${fmt(Number(latency?.max) / 1000, 2)} s; per destination ${fmt(slowest, 2)} … ${fmt(fastest, 2)} leads/s; 606 ${c606}, 615 ${c615}`,
  );

  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const cpus = os.cpus().length;
  const measuredRate = (sentMeasured * PER_REQUEST) / (MEASURE_MS / 1000);
  lines.push(
    "## PostgreSQL: a trickle to 1,000 destinations",
    "",
    `Command: \`node bench/run.ts trickle\` (from packages/postout). PostgreSQL started by the bench (fsync on), one \`marketo-sandbox --instances ${fmt(DESTINATIONS)}\` process (each instance 100 calls / 20 s, 10 in flight, a sync 300 ms + 1 ms a record), 3 \`postout serve\` processes and the load generator, all on this machine's ${cpus} cores (load average before the run: ${loadBefore.toFixed(1)}). ${fmt(DESTINATIONS)} destinations created through POST /v1/destinations (${fmt(createSeconds, 1)} s), plus the config file's one, sent nothing; leases balanced ${balanced.join(" / ")} in ${fmt(balanceSeconds, 1)} s. The trickle: ${fmt(LEADS_PER_SECOND)} leads/s, ${PER_REQUEST} leads a request for one destination (each destination posted once a second, as a form backend flushing each second), round robin over the 3 processes. Warm-up: each process posts once to each destination (its first intake for one reads the lead schema, and each process takes a token per instance) and all is delivered; then ${WARMUP_MS / 1000} s of trickle, then ${MEASURE_MS / 1000} s measured. Queries/s are the database's committed + rolled back transactions (pg_stat_database) and statements (pg_stat_statements).`,
    "",
    "| measure | result | target | |",
    "|---|---|---|---|",
    `| idle cost, ${fmt(DESTINATIONS + 1)} destinations and no leads, ${IDLE_MS / 1000} s | CPU **${idle.serveCpu.map((c) => fmt(c, 1)).join(" / ")} %** of a core per process; database **${fmt(idle.xactsPerSecond, 1)} transactions/s, ${fmt(idle.statementsPerSecond, 1)} statements/s** (its CPU ${fmt(idle.pgCpu, 1)} %) | reported | |`,
    `| accepted → recorded, leads accepted in the measured ${MEASURE_MS / 1000} s (${fmt(Number(latency?.n))}; ${fmt(measuredRate)} leads/s posted) | p50 ${fmt(p50, 2)} s, **p99 ${fmt(p99, 2)} s** (max ${fmt(Number(latency?.max) / 1000, 2)} s) | p99 ≤ 2 s | ${met(p99 <= 2)} |`,
    `| no destination starved: slowest ÷ fastest delivered rate over the measured ${MEASURE_MS / 1000} s | **${fmt(fairness, 2)}** (${fmt(slowest, 2)} … ${fmt(fastest, 2)} leads/s) | ≥ 0.8 | ${met(fairness >= 0.8)} |`,
    `| delivered; self-caused 606 / 615 (every instance's state) | **${fmt(delivered)} of ${fmt(accepted)}** (with the warm-up's ${fmt(DESTINATIONS * PROCESSES)})${refused > 0 ? ` (${refused} requests refused)` : ""}; ${fmt(calls)} calls after the warm-up, ${fmt((delivered - DESTINATIONS * PROCESSES) / Math.max(1, calls), 1)} leads a call; **${c606} / ${c615}** | 100 %, 0 / 0 | ${met(delivered === accepted && refused === 0 && c606 + c615 === 0)} |`,
    `| cost under the trickle | CPU ${busy.serveCpu.map((c) => fmt(c)).join(" / ")} % per process, database ${fmt(busy.pgCpu)} %, sandbox ${fmt(busy.sandboxCpu)} %, load generator ${fmt(busy.generatorCpu)} %; the whole machine ${fmt(busy.machine.busy)} % busy of ${cpus * 100} % (iowait ${fmt(busy.machine.iowait)} %); ${fmt(busy.xactsPerSecond)} transactions/s, ${fmt(busy.statementsPerSecond)} statements/s | reported | |`,
  );
  await sql.end();
} finally {
  agent.destroy();
  await Promise.all([...children].map((c) => stopChild(c)));
  cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${lines.join("\n")}\n`);
