/**
 * 150,000 leads through syncLeads against the sandbox with Marketo's real limits (100 calls
 * per rolling 20 s, 10 in flight), then the same at a 0.1 time scale. Prints a Markdown
 * section to stdout. Usage: `npm run bench -w @postout/marketo` (`-- --fast` for the fast run only).
 */
import { cpus, totalmem } from "node:os";
import { startSandbox } from "@postout/sandbox";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";

const LEADS = 150_000;
const BATCH = 300;
const CALLS = Math.ceil(LEADS / BATCH); // 500
const WINDOW_CALLS = 100;
const WINDOW_MS = 20_000;
const CONCURRENCY = 10;
// The sandbox's default latency for a write: 300 ms plus 1 ms per record.
const WRITE_MS = 300;
const PER_RECORD_MS = 1;
const IDENTITY_MS = 80;

interface Run {
  readonly name: string;
  readonly scale: number;
  readonly elapsedMs: number;
  readonly minimumMs: number;
  readonly calls: number;
  readonly rateRefusals: number;
  readonly refusalCodes: string;
  readonly written: number;
  readonly highestInFlight: number;
}

/**
 * The theoretical minimum. Call k (0-based) may start no earlier than call k−100 started plus
 * one window, and no earlier than a slot is free (10 in flight, each lasting L). With 10·L
 * shorter than the window, the calls of window q start in 10 waves at q·W, q·W+L, …, q·W+9L.
 * The last call (q = 4, wave 9) ends at 4·W + 10·L, after the identity call.
 */
function minimumMs(scale: number): number {
  const windows = Math.ceil(CALLS / WINDOW_CALLS) - 1; // 4
  const latency = (WRITE_MS + PER_RECORD_MS * BATCH) * scale; // L
  const waves = Math.ceil(WINDOW_CALLS / CONCURRENCY); // 10
  if (waves * latency > WINDOW_MS * scale)
    throw new Error("concurrency-bound; formula does not apply");
  return IDENTITY_MS * scale + windows * WINDOW_MS * scale + waves * latency;
}

async function run(name: string, scale: number): Promise<Run> {
  clearTokenCache();
  const sb = await startSandbox({
    timeScale: scale,
    seed: 1,
    rateLimit: { calls: WINDOW_CALLS, windowMs: WINDOW_MS },
    concurrency: CONCURRENCY,
    dailyQuota: 50_000,
    callLogSize: 10_000,
  });
  try {
    const client = new MarketoClient({
      baseUrl: sb.url,
      clientId: sb.clientId,
      clientSecret: sb.clientSecret,
      // The window margin covers the time from our gate to the server's clock; it is the
      // only slack the client adds (4 window boundaries × margin).
      gate: { windowMs: WINDOW_MS * scale, windowMarginMs: Math.max(25, 250 * scale) },
    });
    const leads = Array.from({ length: LEADS }, (_, i) => ({
      email: `bench${i}@example.com`,
      firstName: `First${i}`,
      lastName: `Last${i}`,
      company: `Company ${i % 997}`,
    }));
    const started = performance.now();
    const result = await client.syncLeads(leads);
    const elapsedMs = performance.now() - started;
    const calls = sb.calls().filter((c) => c.path === "/rest/v1/leads.json");
    const state = sb.state() as { calls: { highestInFlight: number } };
    return {
      name,
      scale,
      elapsedMs,
      minimumMs: minimumMs(scale),
      calls: calls.length,
      rateRefusals: calls.filter((c) => c.code === "606" || c.code === "615").length,
      refusalCodes:
        calls
          .filter((c) => c.code !== "200")
          .map((c) => c.code)
          .join(",") || "none",
      written: result.counts.created + result.counts.updated,
      highestInFlight: state.calls.highestInFlight,
    };
  } finally {
    await sb.close();
  }
}

function passed(r: Run): boolean {
  return r.elapsedMs <= 1.05 * r.minimumMs && r.rateRefusals === 0 && r.written === LEADS;
}

const fastOnly = process.argv.includes("--fast");
const runs: Run[] = [];
if (!fastOnly) runs.push(await run("real limits", 1));
runs.push(await run("fast (timeScale 0.1)", 0.1));

const cpu = cpus();
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const lines = [
  "## @postout/marketo — syncLeads throughput under Marketo's limits",
  "",
  `Command: \`npm run bench -w @postout/marketo\`${fastOnly ? " -- --fast" : ""} (runs \`node bench/client.bench.ts\`)`,
  "",
  `Machine: ${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`,
  "",
  `Date: ${new Date().toISOString()}`,
  "",
  `${LEADS.toLocaleString("en-US")} leads, batches of ${BATCH} → ${CALLS} calls; sandbox limits ${WINDOW_CALLS} calls per rolling ${WINDOW_MS / 1000} s and ${CONCURRENCY} in flight; sandbox write latency ${WRITE_MS} ms + ${PER_RECORD_MS} ms/record (L = ${WRITE_MS + PER_RECORD_MS * BATCH} ms at scale 1).`,
  "Theoretical minimum = identity + 4 windows + 10 waves of L (the 401st call cannot start before the 1st started + 20 s, and so on; the last 100 calls run in 10 waves of 10): 0.08 + 80 + 6 = 86.08 s at scale 1.",
  "",
  "| run | elapsed | theoretical minimum | ratio (≤ 1.05) | calls | self-caused 606/615 | leads written | highest in flight | result |",
  "|---|---|---|---|---|---|---|---|---|",
  ...runs.map(
    (r) =>
      `| ${r.name} | ${s(r.elapsedMs)} | ${s(r.minimumMs)} | ${(r.elapsedMs / r.minimumMs).toFixed(3)} | ${r.calls} | ${r.rateRefusals} (${r.refusalCodes}) | ${r.written.toLocaleString("en-US")} | ${r.highestInFlight} | ${passed(r) ? "pass" : "FAIL"} |`,
  ),
  "",
];
process.stdout.write(`${lines.join("\n")}\n`);
process.exitCode = runs.every(passed) ? 0 : 1;
