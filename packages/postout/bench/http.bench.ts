/**
 * HTTP API benchmarks (issue 6), printed as one Markdown section; progress on stderr.
 * - The filtered lead list `GET /v1/leads` with 1,000,000 attempts stored (250,000 leads × 4):
 *   p95 per filter over real HTTP against `postout serve` on 127.0.0.1.
 * - Intake `POST /v1/leads` in batches of 500 from 4 concurrent clients: leads/s, each batch
 *   on disk before its 202. The destination is paused for the measure, so nothing is sent.
 * `postout serve` runs as its own process; this one only fills the database and sends requests.
 * Run: node bench/http.bench.ts  (from packages/postout; `node bench/run.ts http` runs only it)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { AttemptRecord, NewLead } from "../src/store/store.ts";

const LEADS = 250_000;
const ATTEMPTS_PER_LEAD = 4;
const INTAKE_LEADS = 200_000;
const INTAKE_BATCH = 500;
const INTAKE_CLIENTS = 4;
const API_KEY = "bench-key-0123456789abcdefghij";
const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), "postout-http-bench-"));
const progress = (line: string) => process.stderr.write(`http.bench: ${line}\n`);
const lines: string[] = [];
const out = (line = "") => lines.push(line);

const FIRST = ["ana", "ben", "chloe", "dmitri", "esi", "farah", "gus", "hana", "ivo", "jia"];
const LAST = ["okafor", "lindqvist", "garcia", "nakamura", "brennan", "haddad", "kowalski"];
const DOMAINS = Array.from({ length: 40 }, (_, i) =>
  i < 10 ? ["gmail.com", "outlook.com", "yahoo.com"][i % 3] : `company${i}.example`,
);
const PROGRAMS = Array.from({ length: 8 }, (_, i) => `2026 Webinar ${i + 1}`);
const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const push = (program: string): Route => ({
  endpoint: "pushLeads",
  programName: program,
  source: "ON24",
  reason: "Webinar registration",
});

/** Deterministic 0..1 from an integer, so every run stores the same mix. */
const rand = (i: number) => {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
};

const emailOf = (i: number) =>
  `${FIRST[i % FIRST.length]}.${LAST[(i * 7) % LAST.length]}${i}@${DOMAINS[(i * 13) % DOMAINS.length]}`;

/** The last attempt's outcome: most delivered, some needing a person, a few still retrying. */
function finalOutcome(i: number): Pick<AttemptRecord, "statusCode" | "status" | "reason"> {
  const r = rand(i);
  if (r < 0.85) return { statusCode: "200", status: "delivered", reason: undefined };
  if (r < 0.9) return { statusCode: "1006", status: "needs_fix", reason: "Field 'role' not found" };
  if (r < 0.92)
    return { statusCode: "1001", status: "needs_fix", reason: "Invalid value 'x' for leadScore" };
  if (r < 0.935)
    return { statusCode: "1025", status: "needs_fix", reason: "Program status not found" };
  if (r < 0.95) return { statusCode: "1005", status: "needs_fix", reason: "Lead already exists" };
  if (r < 0.98) return { statusCode: "503", status: "retrying", reason: "Service Unavailable" };
  return { statusCode: "606", status: "retrying", reason: "Max rate limit '100' exceeded" };
}
const TRANSIENT = ["606", "615", "503", "604", "611"];

/** 250,000 leads over the last 30 days, each with 4 attempts, through the Store API. */
async function fill(path: string, end: number): Promise<void> {
  const store = new SqliteStore(path);
  const chunk = 5_000;
  const span = 30 * DAY;
  for (let from = 0; from < LEADS; from += chunk) {
    const created = end - span + Math.floor((from / LEADS) * span);
    const leads: NewLead[] = [];
    for (let i = from; i < from + chunk; i++) {
      const email = emailOf(i);
      const raw = {
        "Email Address": email,
        "First Name": FIRST[i % FIRST.length],
        "Last Name": LAST[(i * 7) % LAST.length],
        Company: `Company ${i % 997}`,
      };
      leads.push({
        destination: "sandbox",
        route: rand(i + 1) < 0.4 ? push(PROGRAMS[i % PROGRAMS.length] as string) : SYNC,
        raw,
        input: {
          email,
          firstName: raw["First Name"],
          lastName: raw["Last Name"],
          company: raw.Company,
        },
        source: "api",
      });
    }
    const { ids } = await store.addLeads(leads, created);
    for (let n = 1; n <= ATTEMPTS_PER_LEAD; n++) {
      const records: AttemptRecord[] = ids.map((id, k) => {
        const i = from + k;
        const at = created + n * 60_000 + k * 50;
        const last = n === ATTEMPTS_PER_LEAD;
        const outcome = last
          ? finalOutcome(i)
          : {
              statusCode: TRANSIENT[(i + n) % TRANSIENT.length] as string,
              status: "retrying" as const,
              reason: "transient",
            };
        return {
          leadId: id,
          at,
          endpoint: "/rest/v1/leads.json",
          request: { action: "createOrUpdate", lookupField: "email", input: leads[k]?.input },
          response:
            outcome.statusCode === "200"
              ? { id: 1_000_000 + i, status: "updated" }
              : {
                  status: "skipped",
                  reasons: [{ code: outcome.statusCode, message: outcome.reason }],
                },
          requestId: `${(i * 31).toString(16)}#${n}`,
          durationMs: 280 + (i % 90),
          step: "lead",
          ...outcome,
          ...(outcome.status === "retrying" ? { nextAt: end + DAY } : {}),
          ...(outcome.status === "delivered" ? { marketoId: 1_000_000 + i } : {}),
        };
      });
      await store.recordAttempts(records);
    }
    if ((from / chunk) % 10 === 0) progress(`filled ${from + chunk} leads`);
  }
  // Paused: the dispatcher of `serve` stays idle while the list is measured.
  await store.setDestinationPause(
    "sandbox",
    { until: end + 365 * DAY, code: "manual", reason: "benchmark" },
    end,
  );
  await store.close();
}

interface Serve {
  readonly url: string;
  stop(): Promise<void>;
}

/** `postout serve` on 127.0.0.1, a free port, the given database; resolves once it listens. */
async function startServe(db: string): Promise<Serve> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
    ),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--db", db],
    { env: { ...env, POSTOUT_API_KEY: API_KEY }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 120_000);
    child.stdout?.on("data", (c: Buffer) => {
      text += c.toString();
      const found = /listening on (http:\/\/\S+)/.exec(text);
      if (found?.[1]) {
        clearTimeout(guard);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const headers = { "x-api-key": API_KEY };

async function timedGet(
  url: string,
): Promise<{ ms: number; body: { nextCursor: string | null; leads: unknown[] } }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = (await res.json()) as { nextCursor: string | null; leads: unknown[] };
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
}

const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

interface FilterCase {
  readonly name: string;
  /** The query of the i-th request of this case. */
  readonly query: (i: number) => string;
  /** Follow nextCursor this many pages deep (each page is one timed request). */
  readonly pages?: number;
}

/** Every filter the dashboard uses, each request with other values. */
function filterCases(end: number): FilterCase[] {
  const dayStart = (i: number) => end - (1 + (i % 28)) * DAY;
  const iso = (ms: number) => new Date(ms).toISOString();
  return [
    { name: "no filter, first page", query: () => "" },
    { name: "status=needs_fix", query: () => "status=needs_fix" },
    { name: "code=1006", query: () => "code=1006" },
    {
      name: "code (each of 1001, 1025, 1005, 503, 606)",
      query: (i) => `code=${["1001", "1025", "1005", "503", "606"][i % 5]}`,
    },
    {
      name: "program (one of 8)",
      query: (i) => `program=${encodeURIComponent(PROGRAMS[i % 8] as string)}`,
    },
    {
      name: "since/until (one day of 30)",
      query: (i) => `since=${iso(dayStart(i))}&until=${iso(dayStart(i) + DAY)}`,
    },
    {
      name: "email contains a domain (common)",
      query: (i) => `email=company${10 + (i % 30)}.example`,
    },
    {
      name: "email contains a name and number (rare)",
      query: (i) => `email=${emailOf((i * 7919) % LEADS).split("@")[0]}`,
    },
    {
      name: "status=needs_fix + program + since",
      query: (i) =>
        `status=needs_fix&program=${encodeURIComponent(PROGRAMS[i % 8] as string)}&since=${iso(end - 7 * DAY)}`,
    },
    {
      name: "deeper pages by cursor (status=delivered, 10 pages of 50)",
      query: () => "status=delivered",
      pages: 10,
    },
    {
      name: "deeper pages by cursor (no filter, 10 pages of 100)",
      query: () => "limit=100",
      pages: 10,
    },
  ];
}

async function measureList(url: string, end: number) {
  const results: { name: string; n: number; p50: number; p95: number; max: number }[] = [];
  const all: number[] = [];
  for (const c of filterCases(end)) {
    const times: number[] = [];
    const rounds = c.pages ? 3 : 25;
    for (let i = 0; i < rounds; i++) {
      let cursor: string | null = null;
      for (let page = 0; page < (c.pages ?? 1); page++) {
        const q = [c.query(i), cursor ? `cursor=${cursor}` : ""].filter(Boolean).join("&");
        const { ms, body } = await timedGet(`${url}/v1/leads${q ? `?${q}` : ""}`);
        times.push(ms);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    results.push({
      name: c.name,
      n: times.length,
      p50: pct(times, 50),
      p95: pct(times, 95),
      max: times.at(-1) ?? 0,
    });
    progress(`${c.name}: p95 ${pct(times, 95).toFixed(1)} ms`);
  }
  all.sort((a, b) => a - b);
  return { results, n: all.length, p95: pct(all, 95), p50: pct(all, 50) };
}

async function measureIntake(url: string) {
  const pause = await fetch(`${url}/v1/destinations/sandbox/pause`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ reason: "benchmark: intake only" }),
  });
  if (pause.status !== 200) throw new Error(`pause: ${pause.status}`);
  const body = (from: number) =>
    JSON.stringify({
      route: SYNC,
      leads: Array.from({ length: INTAKE_BATCH }, (_, k) => {
        const i = from + k;
        return {
          email: emailOf(i),
          firstName: FIRST[i % FIRST.length],
          lastName: LAST[i % LAST.length],
          company: `Company ${i % 997}`,
        };
      }),
    });
  const post = async (from: number) => {
    const t = performance.now();
    const res = await fetch(`${url}/v1/leads`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: body(from),
    });
    const answer = (await res.json()) as { accepted: number };
    if (res.status !== 202 || answer.accepted !== INTAKE_BATCH)
      throw new Error(`intake: ${res.status} ${JSON.stringify(answer)}`);
    return performance.now() - t;
  };
  await post(10_000_000); // warm-up: the schema for preflight, the connection
  const batches = INTAKE_LEADS / INTAKE_BATCH;
  let next = 0;
  const times: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INTAKE_CLIENTS }, async () => {
      for (;;) {
        const b = next++;
        if (b >= batches) return;
        times.push(await post(b * INTAKE_BATCH));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const listed = await timedGet(`${url}/v1/leads?limit=1`);
  const counts = (listed.body as unknown as { counts: Record<string, number> }).counts;
  // Every lead stored, less the warm-up batch.
  const stored = Object.values(counts).reduce((a, b) => a + b, 0) - INTAKE_BATCH;
  times.sort((a, b) => a - b);
  return { seconds, rate: INTAKE_LEADS / seconds, stored, p95: pct(times, 95), statuses: counts };
}

const pass = (ok: boolean) => (ok ? "pass" : "**FAIL**");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const cpus = os.cpus();
out("## postout HTTP API");
out();
out(
  "Command: `node bench/run.ts http` in packages/postout (runs `node bench/http.bench.ts`; `npm run bench -w postout` runs it with the others).",
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}. Date: ${new Date().toISOString()}.`,
);
out();
out("| measure | figure | goal | verdict |");
out("|---|---|---|---|");
try {
  const end = Date.now();
  const db = join(dir, "list.db");
  const t = performance.now();
  await fill(db, end);
  const fillSeconds = (performance.now() - t) / 1000;
  progress(`filled in ${fillSeconds.toFixed(1)} s`);
  const listServe = await startServe(db);
  let list: Awaited<ReturnType<typeof measureList>>;
  try {
    // One pass to warm SQLite's page cache and the connection, as a running server has.
    await measureList(listServe.url, end);
    list = await measureList(listServe.url, end);
  } finally {
    await listServe.stop();
  }
  for (const r of list.results) {
    out(
      `| GET /v1/leads, ${r.name} (${r.n} requests) | p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms | p95 ≤ 50 ms | ${pass(r.p95 <= 50)} |`,
    );
  }
  out(
    `| **GET /v1/leads, all ${list.n} requests** (${fmt(LEADS)} leads, ${fmt(LEADS * ATTEMPTS_PER_LEAD)} attempts stored, filled through the Store API in ${fillSeconds.toFixed(0)} s) | p50 ${list.p50.toFixed(1)} ms, **p95 ${list.p95.toFixed(1)} ms** | p95 ≤ 50 ms | ${pass(list.p95 <= 50)} |`,
  );

  const intakeServe = await startServe(join(dir, "intake.db"));
  try {
    const intake = await measureIntake(intakeServe.url);
    out(
      `| POST /v1/leads, ${fmt(INTAKE_LEADS)} leads in batches of ${INTAKE_BATCH} from ${INTAKE_CLIENTS} concurrent clients, each batch committed before its 202 (destination paused: nothing sent during the measure) | **${fmt(intake.rate)} leads/s** (${intake.seconds.toFixed(1)} s; p95 per batch ${intake.p95.toFixed(0)} ms; ${fmt(intake.stored)} stored) | ≥ 10,000 leads/s | ${pass(intake.rate >= 10_000 && intake.stored === INTAKE_LEADS)} |`,
    );
  } finally {
    await intakeServe.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
out();
out(
  "Both measures go over real HTTP to `postout serve` in its own process on 127.0.0.1 (keep-alive, one client for the list, sequential requests; the load generator is this process, on the same 2 cores). The list's figures are from a second pass over the same requests: the first warms SQLite's page cache as a running server's is. Each list answer holds a page of 50 leads (100 where said) and the counts by status over the filter. Mix stored: 85 % delivered, 8 % needs_fix (1006, 1001, 1025, 1005), 5 % retrying (503, 606), 40 % pushed to one of 8 programs, spread over 30 days; each lead's first three attempts are transient refusals (606, 615, 503, 604, 611).",
);
out(
  "Before migration 003 (indexes on program and updated_at, a trigram index for email contains) and the ids-first list query, on the same machine: program p95 122 ms, since/until 139 ms, email contains a domain 117 ms, a rare email part 172 ms, all requests p95 155 ms; intake 19,669 leads/s. The trigram index costs intake about 45 % (its trigger indexes every new lead's email) and is what makes a rare email part answer in 4 ms instead of a scan of every lead. A common domain (6,250 leads) is a long walk of the trigram index: the list looked it up twice, for the page and for the counts (p95 43–77 ms over three runs of this bench); Store.listLeads now returns both from one lookup, kept in a temp table for the request. Migration 004 replaced that insert trigger by one insert of each chunk's new leads into the index, in addLeads's own transaction, which takes most of that cost off intake (the gateway section's durable intake row).",
);
process.stdout.write(`${lines.join("\n")}\n`);
