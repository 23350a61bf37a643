// Benchmark: `cd packages/sandbox && npm run bench` (node bench/sandbox.bench.ts).
// With limits and latency off, it measures (1) small calls per second over HTTP with
// concurrent fetches and (2) the sandbox's own CPU per 300-lead sync, in process.
import os from "node:os";
import { startSandbox } from "../src/index.ts";

const targetCallsPerSecond = 2000;
const targetCpuMsPerSync = 5;

const sb = await startSandbox({
  rateLimit: false,
  concurrency: false,
  dailyQuota: false,
  latency: false,
});
const q = new URLSearchParams({
  grant_type: "client_credentials",
  client_id: sb.clientId,
  client_secret: sb.clientSecret,
});
const { access_token } = (await (await fetch(`${sb.url}/identity/oauth/token?${q}`)).json()) as {
  access_token: string;
};
const headers = { authorization: `Bearer ${access_token}`, "content-type": "application/json" };

// (1) Small calls: Get Leads by Filter Type on one id, 32 at a time, 20,000 in all.
const total = 20_000;
const parallel = 32;
let sent = 0;
const small = async (): Promise<void> => {
  while (sent < total) {
    sent++;
    const res = await fetch(`${sb.url}/rest/v1/leads.json?filterType=id&filterValues=1`, {
      headers,
    });
    await res.arrayBuffer();
  }
};
for (let i = 0; i < 500; i++)
  await (await fetch(`${sb.url}/rest/v1/leads/describe2.json`, { headers })).arrayBuffer();
const started = performance.now();
await Promise.all(Array.from({ length: parallel }, small));
const seconds = (performance.now() - started) / 1000;
const callsPerSecond = total / seconds;

// (2) CPU per 300-lead sync: the sandbox runs in this process, so process.cpuUsage covers
// both the client side of fetch and the server; we subtract an equal number of tiny calls
// to leave the sync's own cost.
const syncs = 200;
let n = 0;
const body = (): string =>
  JSON.stringify({
    input: Array.from({ length: 300 }, () => {
      n++;
      return {
        email: `bench-${n}@example.com`,
        firstName: "Bench",
        lastName: `L${n}`,
        leadScore: n % 100,
        company: "Postout",
      };
    }),
  });
const bodies = Array.from({ length: syncs }, body);
const cpu = async (run: (i: number) => Promise<void>): Promise<number> => {
  const before = process.cpuUsage();
  for (let i = 0; i < syncs; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};
const syncCpu = await cpu(async (i) => {
  const res = await fetch(`${sb.url}/rest/v1/leads.json`, {
    method: "POST",
    headers,
    body: bodies[i] ?? "",
  });
  await res.arrayBuffer();
});
const baseCpu = await cpu(async () => {
  const res = await fetch(`${sb.url}/rest/v1/leads.json?filterType=id&filterValues=1`, { headers });
  await res.arrayBuffer();
});
const cpuPerSync = (syncCpu - baseCpu) / syncs;
await sb.close();

const verdict = (ok: boolean): string => (ok ? "pass" : "FAIL");
const cpus = os.cpus();
const lines = [
  "## @postout/sandbox",
  "",
  "Command: `cd packages/sandbox && npm run bench` (`node bench/sandbox.bench.ts`), limits and latency off.",
  "",
  `Machine: ${cpus[0]?.model ?? "unknown CPU"} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}`,
  `Date: ${new Date().toISOString()}`,
  "",
  "| measure | result | target | verdict |",
  "|---|---|---|---|",
  `| small calls per second (${total} Get Leads by Filter Type, ${parallel} concurrent fetches) | ${callsPerSecond.toFixed(0)}/s | ≥ ${targetCallsPerSecond}/s | ${verdict(callsPerSecond >= targetCallsPerSecond)} |`,
  `| CPU per 300-lead sync (${syncs} syncs, in process, minus as many tiny calls) | ${cpuPerSync.toFixed(2)} ms | ≤ ${targetCpuMsPerSync} ms | ${verdict(cpuPerSync <= targetCpuMsPerSync)} |`,
  "",
];
process.stdout.write(lines.join("\n"));
