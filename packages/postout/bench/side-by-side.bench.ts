/**
 * Side by side (issue 7): the same 20,000 leads into the same sandbox with the same limits,
 * faults and foreign traffic, one contender after another in one process:
 * (a) the Postout gateway; (b) node-marketo-rest as its README shows, one createOrUpdate call
 * per 300 leads, sequentially; (c) the same with 10 calls at a time. Prints one Markdown section.
 * Run: node bench/side-by-side.bench.ts  (from packages/postout; `node bench/run.ts side` runs only it)
 */
import { createRequire } from "node:module";
import os from "node:os";
import { type FaultSpec, startSandbox } from "@postout/sandbox";
import { deliver, lead } from "./deliver.ts";
import { countRefusals, type Refusals, restCalls } from "./refusals.ts";

const N = 20_000;
const BATCH = 300;
const LIMITS = { calls: 100, windowMs: 20_000, concurrency: 10 };
const SEED = 11;
const DEADLINE_MS = 10 * 60_000;
// A few % of transient failures, 1 % each of four codes Marketo answers under load.
const FAULT_RATE = 0.01;
const FAULTS: FaultSpec[] = ["604", "606", "611", "502"].map((code) => ({
  code,
  endpoint: "/rest/v1/leads",
  rate: FAULT_RATE,
}));
// Another app on the instance: a steady 2 calls/s (40 of every window's 100) and 2 of the 10
// concurrency slots held for the whole run.
const FOREIGN = { perSecond: 2, holdSlots: 2, holdMs: 3_600_000 };

// node-marketo-rest logs through bunyan to stdout; its own NODE_MARKETO_LOG_LEVEL keeps stdout
// for this section. Loaded unmodified, as its users load it (CommonJS).
process.env.NODE_MARKETO_LOG_LEVEL = "fatal";
const require = createRequire(import.meta.url);
const Marketo = require("node-marketo-rest") as new (
  options: Record<string, unknown>,
) => {
  lead: {
    createOrUpdate(input: unknown[], options?: Record<string, unknown>): Promise<unknown>;
  };
};

const sandbox = await startSandbox({ seed: SEED, faults: FAULTS, callLogSize: 100_000 });

interface Result {
  readonly name: string;
  readonly delivered: number;
  readonly lost: number;
  readonly lostWhy: string;
  readonly calls: number;
  readonly codes: string;
  readonly refusals: Refusals;
  readonly seconds: number;
  readonly highestInFlight: number;
}

function withDeadline<T>(name: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name}: no end after ${DEADLINE_MS / 1000} s`)),
      DEADLINE_MS,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** node-marketo-rest rejects with its HttpError (Marketo's errors[], or the HTTP status) or a string. */
function codeOf(error: unknown): string {
  const e = error as { errors?: { code?: string }[]; code?: unknown } | undefined;
  return String(e?.errors?.[0]?.code ?? e?.code ?? (typeof error === "string" ? "rejected" : "?"));
}

async function nodeMarketoRest(concurrency: number) {
  const marketo = new Marketo({
    endpoint: `${sandbox.url}/rest`,
    identity: `${sandbox.url}/identity`,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
  });
  const batches: unknown[][] = [];
  for (let i = 0; i < N; i += BATCH) {
    batches.push(Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => lead(i + k)));
  }
  const failed = new Map<string, number>();
  let next = 0;
  // `concurrency` workers each take the next batch: 1 is a plain for…await loop.
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as unknown[];
      try {
        await marketo.lead.createOrUpdate(batch, { lookupField: "email" });
      } catch (error) {
        const code = codeOf(error);
        failed.set(code, (failed.get(code) ?? 0) + batch.length);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

async function contender(name: string, run: () => Promise<Map<string, number> | undefined>) {
  process.stderr.write(`bench: side by side — ${name}\n`);
  sandbox.reset();
  sandbox.foreignTraffic(FOREIGN);
  // Let the other app's stream fill its part of the window first, as a long-running app would have.
  await new Promise((r) => setTimeout(r, LIMITS.windowMs));
  const started = performance.now();
  const failed = await withDeadline(name, run());
  const seconds = (performance.now() - started) / 1000;
  const log = sandbox.calls();
  const rest = restCalls(log);
  const byCode = new Map<string, number>();
  for (const c of rest) byCode.set(c.code, (byCode.get(c.code) ?? 0) + 1);
  const state = sandbox.state() as { leads: number; calls: { highestInFlight: number } };
  const lostWhy =
    failed === undefined || failed.size === 0
      ? "—"
      : [...failed]
          .map(([code, k]) => `${k.toLocaleString("en-US")} in calls that ended in ${code}`)
          .join("; ");
  return {
    name,
    delivered: state.leads,
    lost: N - state.leads,
    lostWhy,
    calls: rest.length,
    codes: [...byCode].map(([code, k]) => `${code}×${k}`).join(", "),
    refusals: countRefusals(log, LIMITS),
    seconds,
    highestInFlight: state.calls.highestInFlight,
  } satisfies Result;
}

let results: Result[];
try {
  results = [
    await contender("Postout", async () => {
      const d = await deliver(sandbox, N, DEADLINE_MS);
      const pending = N - d.statuses.delivered;
      return pending > 0 ? new Map([["not delivered by Postout's deadline", pending]]) : undefined;
    }),
    await contender("node-marketo-rest, sequential", () => nodeMarketoRest(1)),
    await contender("node-marketo-rest, 10 at a time", () => nodeMarketoRest(10)),
  ];
} finally {
  await sandbox.close();
}

const [postout, sequential, parallel] = results as [Result, Result, Result];
const pass = (ok: boolean) => (ok ? "pass" : "**FAIL**");
const n = (x: number) => x.toLocaleString("en-US");
const cpus = os.cpus();
const lines: string[] = [];
const out = (line = "") => lines.push(line);
out("## Side by side: Postout and node-marketo-rest");
out();
out(
  "Command: `npm run bench -w postout` (runs `node bench/side-by-side.bench.ts` in packages/postout; `node bench/run.ts side` runs only it).",
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}. Date: ${new Date().toISOString()}.`,
);
out();
out(
  `Workload, the same for each contender, one after another in one process and one sandbox (\`reset()\` between, seed ${SEED}): ${n(N)} new leads (email lookup, createOrUpdate); Marketo's real limits (100 calls per rolling 20 s, 10 in flight) and the sandbox's Marketo-like latency (write 300 ms + 1 ms per record), in real time (no time scale); transient faults 604, 606, 611 and 502 at ${FAULT_RATE * 100} % each on \`/rest/v1/leads*\` (seeded PRNG); another app using the instance: ${FOREIGN.perSecond} calls/s (${FOREIGN.perSecond * 20} of every window's 100) and ${FOREIGN.holdSlots} of the 10 concurrency slots, started 20 s before each contender. node-marketo-rest ${require("node-marketo-rest/package.json").version}, unmodified, with its default retry (5 retries: network errors, 5xx, 604, 608, 611, 601/602, and 606 after a 20 s wait; not 615).`,
);
out();
out(
  "| measure | Postout | node-marketo-rest, sequential | node-marketo-rest, 10 at a time | goal (Postout) | verdict |",
);
out("|---|---|---|---|---|---|");
const row = (measure: string, f: (r: Result) => string, goal: string, ok: boolean | undefined) =>
  out(
    `| ${measure} | ${f(postout)} | ${f(sequential)} | ${f(parallel)} | ${goal} | ${ok === undefined ? "—" : pass(ok)} |`,
  );
row("delivered leads (leads in the sandbox)", (r) => n(r.delivered), n(N), postout.delivered === N);
row("lost leads", (r) => n(r.lost), "0", postout.lost === 0);
row("why lost (a failed call the caller did not retry)", (r) => r.lostWhy, "—", undefined);
row("606 / 615 received", (r) => `${r.refusals.c606} / ${r.refusals.c615}`, "—", undefined);
row(
  "of which self-caused",
  (r) => `${r.refusals.self606} / ${r.refusals.self615}`,
  "0 / 0",
  postout.refusals.self606 + postout.refusals.self615 === 0,
);
row("REST calls (identity not counted)", (r) => n(r.calls), "—", undefined);
row("answers by code", (r) => r.codes, "—", undefined);
row(
  `highest concurrency slots in use (ours + the other app's ${FOREIGN.holdSlots})`,
  (r) => String(r.highestInFlight),
  "—",
  undefined,
);
row("wall time", (r) => `${r.seconds.toFixed(1)} s`, "—", undefined);
row(
  "Postout ÷ contender, wall time",
  (r) => (r === postout ? "1" : (postout.seconds / r.seconds).toFixed(2)),
  "—",
  undefined,
);
row(
  "Postout ÷ contender, REST calls",
  (r) => (r === postout ? "1" : (postout.calls / r.calls).toFixed(2)),
  "—",
  undefined,
);
out();
out(
  "Wall time for Postout runs from intake (SQLite commit and the describe preflight, one REST call) to the last lead recorded; for node-marketo-rest from the first call to the last. A 606 or 615 is self-caused when our own calls alone would have drawn it (more than 100 of ours counting in the sandbox's 20 s window, or 10 of ours in flight; arrival times from the requestIds); the others needed the other app's share. node-marketo-rest's bunyan logging was set to `fatal` (its `NODE_MARKETO_LOG_LEVEL`) to keep stdout for this section.",
);
process.stdout.write(`${lines.join("\n")}\n`);
