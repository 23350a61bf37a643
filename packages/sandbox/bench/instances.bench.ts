// Benchmark: `cd packages/sandbox && node bench/instances.bench.ts` (part of `npm run bench`).
// One `marketo-sandbox --instances 1000` process, as a user starts it: time to its ready
// line and its RSS then, against a sandbox without instances; then its RSS after every
// instance has been used once (one token and one one-lead Sync Leads each). In process, the
// time startSandbox takes and the heap each used instance holds after garbage collection.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startSandbox } from "../src/index.ts";

const bin = fileURLToPath(new URL("../bin/marketo-sandbox.ts", import.meta.url));
const count = 1000;
const parallel = 8;
const targetStartOverheadMs = 1000;
const targetIdleMbPer1000 = 32;

interface Credentials {
  url: string;
  clientId: string;
  clientSecret: string;
}

/** The resident set of a process in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

async function start(args: string[]): Promise<{
  child: ChildProcess;
  ready: Credentials & { instances?: Credentials[] };
  ms: number;
}> {
  const began = performance.now();
  const child = spawn(process.execPath, [bin, "--json", "--no-latency", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  for await (const chunk of child.stdout ?? []) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  const ms = performance.now() - began;
  return { child, ready: JSON.parse(text.split("\n")[0] ?? ""), ms };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** One token and one one-lead Sync Leads on an instance. */
async function touch(instance: Credentials, n: number): Promise<void> {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: instance.clientId,
    client_secret: instance.clientSecret,
  });
  const auth = await fetch(`${instance.url}/identity/oauth/token`, { method: "POST", body: form });
  const { access_token } = (await auth.json()) as { access_token: string };
  const sync = await fetch(`${instance.url}/rest/v1/leads.json`, {
    method: "POST",
    headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ input: [{ email: `bench-${n}@example.com`, firstName: "Bench" }] }),
  });
  const body = (await sync.json()) as { success: boolean };
  if (!body.success) throw new Error(`sync on ${instance.url} failed`);
}

// In process: what the instances add to startSandbox itself (credentials, no state).
const inProcess = async (instances: number): Promise<number> => {
  const began = performance.now();
  const sb = await startSandbox({ instances, latency: false });
  const ms = performance.now() - began;
  await sb.close();
  return ms;
};
await inProcess(0);
const inProcessPlainMs = await inProcess(0);
const inProcessManyMs = await inProcess(count);

// In process, after garbage collection: the heap an instance holds once used (RSS also holds
// garbage not yet collected, so it varies from run to run).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const heapSandbox = await startSandbox({ instances: count, latency: false });
const heapIdle = heapMb();
for (let n = 0; n < count; n++) {
  const at = heapSandbox.instances[n];
  if (at !== undefined) await touch(at, n);
}
const heapUsedPerInstance = ((heapMb() - heapIdle) * 1024) / count;
await heapSandbox.close();

// A first spawn warms the file cache, so the two measured spawns start alike.
await stop((await start([])).child);
const plain = await start([]);
const plainRss = rssMb(plain.child.pid ?? 0);
await stop(plain.child);

const many = await start(["--instances", String(count)]);
const pid = many.child.pid ?? 0;
const idleRss = rssMb(pid);
const instances = many.ready.instances ?? [];
if (instances.length !== count) throw new Error(`expected ${count} instances`);
const touchBegan = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < instances.length) {
      const n = next++;
      await touch(instances[n] as Credentials, n);
    }
  }),
);
const touchSeconds = (performance.now() - touchBegan) / 1000;
const listed = (await (await fetch(`${many.ready.url}/_sandbox/instances`)).json()) as Array<{
  created: boolean;
}>;
const created = listed.filter((i) => i.created).length;
const usedRss = rssMb(pid);
await stop(many.child);

const startOverhead = many.ms - plain.ms;
const idleOverhead = idleRss - plainRss;
const verdict = (ok: boolean): string => (ok ? "pass" : "FAIL");
const mb = (n: number): string => `${n.toFixed(1)} MB`;
const lines = [
  "",
  `### ${count.toLocaleString("en-US")} instances in one process`,
  "",
  `Command: \`cd packages/sandbox && node bench/instances.bench.ts\`: \`marketo-sandbox --json --no-latency --instances ${count}\` as a subprocess, against the same without \`--instances\`; RSS from /proc. Then every instance used once, ${parallel} at a time: a token (form POST) and a one-lead Sync Leads. The first two rows are measured in the bench's own process.`,
  "",
  `Date: ${new Date().toISOString()}, Node ${process.version}`,
  "",
  "| measure | result | target | verdict |",
  "|---|---|---|---|",
  `| \`startSandbox\` in process | ${inProcessManyMs.toFixed(1)} ms (without instances ${inProcessPlainMs.toFixed(1)} ms) | — | — |`,
  `| heap per instance used, after GC (in process; token + sync each) | ${heapUsedPerInstance.toFixed(1)} KB | — | — |`,
  `| spawn → ready line | ${many.ms.toFixed(0)} ms (without instances ${plain.ms.toFixed(0)} ms) | ≤ ${targetStartOverheadMs} ms more | ${verdict(startOverhead <= targetStartOverheadMs)} |`,
  `| RSS at ready | ${mb(idleRss)} (without instances ${mb(plainRss)}) | ≤ ${targetIdleMbPer1000} MB more | ${verdict(idleOverhead <= targetIdleMbPer1000)} |`,
  `| RSS after all ${count} used (token + sync each; ${created} instances made, in ${touchSeconds.toFixed(1)} s) | ${mb(usedRss)}, ${((usedRss - idleRss) / count).toFixed(2)} MB per instance used | — | — |`,
  "",
];
process.stdout.write(lines.join("\n"));
if (startOverhead > targetStartOverheadMs || idleOverhead > targetIdleMbPer1000)
  process.exitCode = 1;
