/**
 * Gateway benchmarks (issue 5), printed as a Markdown section:
 * - durable intake: leads mapped, preflighted and committed to SQLite per second;
 * - end to end: 100,000 leads against the sandbox with Marketo's real limits, as a ratio of
 *   the theoretical best (100 calls per rolling 20 s × 300 leads = 1,500 leads/s);
 * - latency at 50 leads/s: accepted → result recorded, p50 and p99;
 * - peak RSS of `postout post` on a 1,000,000-lead CSV.
 * Run: node bench/gateway.bench.ts  (from packages/postout; `npm run bench` runs it)
 * `node bench/gateway.bench.ts intake` measures the durable intake row alone (~15 s instead of
 * ~16 min): the same 200,000 leads, same code, the other rows left out of the table.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "@postout/sandbox";
import { SANDBOX_DESTINATION } from "../src/config.ts";
import { Gateway } from "../src/gateway.ts";
import { IDENTITY_MAP } from "../src/mapping/field-map.ts";
import { preparer } from "../src/prepare.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "postout-bench-"));
const ROUTE: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const row = (i: number) => ({
  email: `bench${i}@example.com`,
  firstName: `F${i}`,
  lastName: `L${i}`,
  company: "Bench Inc",
});
const intakeOnly = process.argv[2] === "intake";
const lines: string[] = [];
const out = (line = "") => lines.push(line);

async function open(name: string, sandboxOptions: Parameters<typeof startSandbox>[0]) {
  const store = new SqliteStore(join(dir, `${name}.db`));
  const gateway = await Gateway.open({
    store,
    config: {
      db: "",
      sandbox: true,
      retry: undefined,
      destinations: [SANDBOX_DESTINATION],
    },
    sandboxOptions,
    announce: () => {},
  });
  return { store, gateway, destination: gateway.destination() };
}

async function intakeRate(n: number) {
  const { store, gateway, destination } = await open("intake", { latency: false });
  const prepare = preparer({
    map: IDENTITY_MAP,
    route: ROUTE,
    schema: (o) => destination.schema(o),
  });
  await prepare(row(-1));
  const started = performance.now();
  function* rows() {
    for (let i = 0; i < n; i++) yield { raw: row(i), line: i + 2 };
  }
  const { accepted } = await gateway.accept(rows(), {
    destination: destination.name,
    route: ROUTE,
    prepare,
    chunk: 1000,
  });
  const seconds = (performance.now() - started) / 1000;
  await gateway.close();
  await store.close();
  return { accepted, seconds, rate: accepted / seconds };
}

async function endToEnd(n: number) {
  const { store, gateway, destination } = await open("e2e", {});
  const prepare = preparer({
    map: IDENTITY_MAP,
    route: ROUTE,
    schema: (o) => destination.schema(o),
  });
  function* rows() {
    for (let i = 0; i < n; i++) yield { raw: row(i), line: i + 2 };
  }
  await gateway.accept(rows(), {
    destination: destination.name,
    route: ROUTE,
    prepare,
    chunk: 5000,
  });
  const sandbox = gateway.sandbox as NonNullable<typeof gateway.sandbox>;
  const before = sandbox.state() as { calls: { byCode: Record<string, number> } };
  const started = performance.now();
  await destination.dispatcher.drain();
  const seconds = (performance.now() - started) / 1000;
  const counts = await store.countByStatus({});
  const after = sandbox.state() as { calls: { byCode: Record<string, number> } };
  const refused = (code: string) =>
    (after.calls.byCode[code] ?? 0) - (before.calls.byCode[code] ?? 0);
  await gateway.close();
  await store.close();
  const rate = counts.delivered / seconds;
  return {
    delivered: counts.delivered,
    seconds,
    rate,
    ratio: rate / 1500,
    c606: refused("606"),
    c615: refused("615"),
  };
}

async function latencyAt(
  perSecond: number,
  seconds: number,
  sandboxOptions: Parameters<typeof startSandbox>[0],
) {
  const { store, gateway, destination } = await open(`latency-${Date.now()}`, sandboxOptions);
  const prepare = preparer({
    map: IDENTITY_MAP,
    route: ROUTE,
    schema: (o) => destination.schema(o),
  });
  await prepare(row(-1));
  gateway.start();
  const accepted = new Map<number, number>();
  const total = perSecond * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    const { ids } = await gateway.accept([{ raw: row(1_000_000 + i) }], {
      destination: destination.name,
      route: ROUTE,
      prepare,
    });
    accepted.set(ids[0] as number, at);
  }
  for (let i = 0; i < 600 && (await store.countByStatus({})).delivered < total; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const delays: number[] = [];
  for (const [id, at] of accepted) {
    const first = (await store.getAttempts(id))[0];
    if (first) delays.push(first.at - at);
  }
  await gateway.close();
  await store.close();
  delays.sort((a, b) => a - b);
  const pct = (p: number) =>
    delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? Number.NaN;
  return { n: delays.length, p50: pct(50), p99: pct(99) };
}

async function peakRss(n: number) {
  const csv = join(dir, "million.csv");
  const chunks: string[] = ["email,firstName,lastName,company"];
  for (let i = 0; i < n; i++) chunks.push(`rss${i}@example.com,F${i},L${i},Bench Inc`);
  writeFileSync(csv, `${chunks.join("\n")}\n`);
  chunks.length = 0;
  // An external sandbox with its limits and latency off: this measures the gateway's memory, not Marketo's pace.
  const sandbox = await startSandbox({
    latency: false,
    rateLimit: false,
    concurrency: false,
    dailyQuota: false,
  });
  const bin = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
  const env = {
    ...process.env,
    MARKETO_BASE_URL: sandbox.url,
    MARKETO_CLIENT_ID: sandbox.clientId,
    MARKETO_CLIENT_SECRET: sandbox.clientSecret,
  };
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "post", csv, "--json", "--db", join(dir, "rss.db")], {
    env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  let peak = 0;
  // VmHWM is the process's own high-water mark; read until it exits.
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {}
  }, 50);
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  clearInterval(poll);
  await sandbox.close();
  const seconds = (performance.now() - started) / 1000;
  const summary = JSON.parse(stdout || "{}") as { delivered?: number };
  return { code, delivered: summary.delivered ?? 0, peakMb: peak / 2 ** 20, seconds };
}

const pass = (ok: boolean) => (ok ? "pass" : "**FAIL**");
const cpus = os.cpus();
out("## postout gateway");
out();
out(
  intakeOnly
    ? "Command: `node bench/gateway.bench.ts intake` in packages/postout (the durable intake row only)."
    : "Command: `npm run bench -w postout` (runs `node bench/gateway.bench.ts` in packages/postout; `node bench/run.ts gateway` runs only it).",
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}. Date: ${new Date().toISOString()}.`,
);
out();
out("| measure | figure | target | result |");
out("|---|---|---|---|");
try {
  const intake = await intakeRate(200_000);
  out(
    `| durable intake (map + preflight + SQLite commit, chunks of 1,000) | ${Math.round(intake.rate).toLocaleString("en-US")} leads/s (${intake.accepted.toLocaleString("en-US")} in ${intake.seconds.toFixed(1)} s) | ≥ 20,000 leads/s | ${pass(intake.rate >= 20_000)} |`,
  );
  if (!intakeOnly) await remainingRows();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Every row after the intake: end to end, latency, peak RSS. */
async function remainingRows() {
  const e2e = await endToEnd(100_000);
  // 334 calls: 100 may start at once, then 100 per window; the 34 of the last window start at
  // 60 s and, 10 in flight, need 4 waves of one call (300 ms + 300 × 1 ms = 0.6 s).
  const calls = Math.ceil(100_000 / 300);
  const windows = Math.ceil(calls / 100);
  const minimum = (windows - 1) * 20 + Math.ceil((calls - (windows - 1) * 100) / 10) * 0.6;
  const exact = minimum / e2e.seconds;
  out(
    `| 100,000 leads end to end, real limits (100 calls / 20 s, 10 in flight, Marketo-like latency) | ${Math.round(e2e.rate).toLocaleString("en-US")} leads/s in ${e2e.seconds.toFixed(1)} s = ${e2e.ratio.toFixed(3)} of 1,500 leads/s; ${exact.toFixed(3)} of the exact minimum (${minimum.toFixed(1)} s) | ≥ 0.95 | ${pass(Math.min(exact, e2e.ratio) >= 0.95 && e2e.delivered === 100_000)} |`,
  );
  out(
    `| self-caused 606 / 615 in that run | ${e2e.c606} / ${e2e.c615} | 0 / 0 | ${pass(e2e.c606 === 0 && e2e.c615 === 0)} |`,
  );
  const lat = await latencyAt(50, 20, {});
  out(
    `| accepted → result recorded at 50 leads/s (${lat.n} leads, dispatcher running, sandbox write latency 300 ms + 1 ms/record) | p50 ${lat.p50} ms, p99 ${lat.p99} ms | p50 ≤ 300 ms, p99 ≤ 1,000 ms | ${pass(lat.p50 <= 300 && lat.p99 <= 1000)} |`,
  );
  const fast = await latencyAt(50, 20, { latency: { write: 100 } });
  out(
    `| the same with a 100 ms Marketo write latency | p50 ${fast.p50} ms, p99 ${fast.p99} ms | p50 ≤ 300 ms, p99 ≤ 1,000 ms | ${pass(fast.p50 <= 300 && fast.p99 <= 1000)} |`,
  );
  const rss = await peakRss(1_000_000);
  out(
    `| peak RSS of \`postout post\` on a 1,000,000-lead CSV (sandbox limits off) | ${rss.peakMb.toFixed(0)} MB, ${rss.delivered.toLocaleString("en-US")} delivered in ${rss.seconds.toFixed(0)} s | ≤ 256 MB | ${pass(rss.peakMb <= 256 && rss.delivered === 1_000_000)} |`,
  );
}
if (!intakeOnly) {
  out();
  out(
    "Latency: with the sandbox's default write latency (300 ms + 1 ms per record, our reading of Marketo's) one call alone takes over 300 ms, so the p50 target cannot be met at that latency whatever the gateway does; at 50 leads/s Marketo's 100 calls per 20 s also forces batching (at least 10 leads a call), which adds a wait for the next call. The 100 ms row shows the gateway's own share. End to end: 100,000 leads need 334 calls; the first 100 may go at once, so the exact minimum is 3 windows (60 s) plus the last window's 34 calls, 10 at a time (4 × 0.6 s); the ratio against the steady 1,500 leads/s can exceed 1 for that reason.",
  );
}
process.stdout.write(`${lines.join("\n")}\n`);
