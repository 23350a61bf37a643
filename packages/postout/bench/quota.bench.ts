/**
 * Quota economy (issue 7): REST calls per lead through the gateway as a ratio of the optimum
 * (one Sync Leads call per 300 leads), with no faults and with 5 % transient faults; and the
 * 606/615 our own calls cause while another app uses part of the window. Real limits, real
 * time. Prints one Markdown section on stdout.
 * Run: node bench/quota.bench.ts  (from packages/postout; `node bench/run.ts quota` runs only it)
 */
import os from "node:os";
import { type FaultSpec, startSandbox } from "@postout/sandbox";
import { deliver } from "./deliver.ts";
import { countRefusals, restCalls } from "./refusals.ts";

const N = 30_000;
const OPTIMUM = Math.ceil(N / 300);
const LIMITS = { calls: 100, windowMs: 20_000, concurrency: 10 };
const DEADLINE_MS = 10 * 60_000;
// 5 % of calls fail transiently, split evenly over four codes: 1 − (1 − r)^4 = 0.05.
const PER_CODE = 1 - 0.95 ** (1 / 4);
const TRANSIENT: FaultSpec[] = ["604", "606", "611", "502"].map((code) => ({
  code,
  endpoint: "/rest/v1/leads",
  rate: PER_CODE,
}));
// Another app's steady stream: 50 of the 100 calls of every 20 s window.
const FOREIGN_PER_SECOND = 2.5;

async function run(name: string, faults: FaultSpec[], foreign: boolean) {
  process.stderr.write(`bench: quota — ${name}\n`);
  const sandbox = await startSandbox({ seed: 7, faults, callLogSize: 100_000 });
  try {
    if (foreign) {
      sandbox.foreignTraffic({ perSecond: FOREIGN_PER_SECOND });
      // Let the stream fill its part of the window before we start, as a long-running app would have.
      await new Promise((r) => setTimeout(r, LIMITS.windowMs));
    }
    const delivery = await deliver(sandbox, N, DEADLINE_MS);
    const log = sandbox.calls();
    const rest = restCalls(log);
    const byCode = new Map<string, number>();
    for (const c of rest) byCode.set(c.code, (byCode.get(c.code) ?? 0) + 1);
    const sync = rest.filter((c) => c.path === "/rest/v1/leads.json").length;
    return {
      name,
      delivered: delivery.statuses.delivered,
      seconds: delivery.seconds,
      rest: rest.length,
      sync,
      other: rest.length - sync,
      counted: rest.filter((c) => c.counted).length,
      clientCounted: [...delivery.clientCalls.values()].reduce((a, b) => a + b, 0),
      codes: [...byCode].map(([code, k]) => `${code}×${k}`).join(", "),
      refusals: countRefusals(log, LIMITS),
    };
  } finally {
    await sandbox.close();
  }
}

const pass = (ok: boolean) => (ok ? "pass" : "**FAIL**");
const clean = await run("no faults", [], false);
const faulty = await run("5 % transient faults", TRANSIENT, false);
const shared = await run("foreign traffic", [], true);

const cpus = os.cpus();
const lines: string[] = [];
const out = (line = "") => lines.push(line);
out("## postout gateway — quota economy");
out();
out(
  "Command: `npm run bench -w postout` (runs `node bench/quota.bench.ts` in packages/postout; `node bench/run.ts quota` runs only it).",
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}. Date: ${new Date().toISOString()}.`,
);
out();
out(
  `${N.toLocaleString("en-US")} leads through the gateway (accept, then drain, as \`postout post\`) into the sandbox with Marketo's real limits and latency, in real time (no time scale), seed 7. Optimum = ceil(${N.toLocaleString("en-US")} / 300) = ${OPTIMUM} Sync Leads calls. Counted: every REST call the sandbox logged — Sync Leads, the describe call of the preflight, retries and failed calls; not counted: identity calls (outside Marketo's quota and rate limit, §2.1). Each run has its own sandbox.`,
);
out();
out("| measure | figure | goal | verdict |");
out("|---|---|---|---|");
const ratioRow = (r: Awaited<ReturnType<typeof run>>, goal: number) => {
  const ratio = r.rest / OPTIMUM;
  const ok = ratio <= goal && r.delivered === N;
  return `| calls per lead ÷ optimum, ${r.name} | ${ratio.toFixed(3)} (${r.rest} REST calls: ${r.sync} Sync Leads + ${r.other} other; codes ${r.codes}; ${r.counted} counted against the daily quota by the sandbox; ${r.delivered.toLocaleString("en-US")} delivered in ${r.seconds.toFixed(1)} s) | ≤ ${goal.toFixed(2)} | ${pass(ok)} |`;
};
out(ratioRow(clean, 1.01));
out(ratioRow(faulty, 1.1));
const s = shared.refusals;
out(
  `| self-caused 606 / 615 with another app's steady ${FOREIGN_PER_SECOND} calls/s (50 of every window's 100) | ${s.self606} / ${s.self615} (received ${s.c606} / ${s.c615}, the rest caused by the other app's share; ${shared.rest} REST calls, ${shared.delivered.toLocaleString("en-US")} delivered in ${shared.seconds.toFixed(1)} s) | 0 / 0 | ${pass(s.self606 === 0 && s.self615 === 0 && shared.delivered === N)} |`,
);
const f = faulty.refusals;
out(
  `| self-caused 606 / 615 in the other two runs | ${clean.refusals.self606 + f.self606} / ${clean.refusals.self615 + f.self615} (received ${clean.refusals.c606 + f.c606} / ${clean.refusals.c615 + f.c615}, injected 606 faults included) | 0 / 0 | ${pass(clean.refusals.self606 + f.self606 + clean.refusals.self615 + f.self615 === 0)} |`,
);
out();
out(
  `Faults: 604, 606, 611 and 502 on \`/rest/v1/leads*\` at ${(PER_CODE * 100).toFixed(2)} % each, drawn from the sandbox's seeded PRNG (5 % of calls in all). A 606 or 615 is self-caused when our own calls alone would have drawn it: more than 100 of ours counting in the sandbox's 20 s window (refused calls included), or 10 of ours in flight; arrival times from the requestIds. A 604 costs two calls, not one: the client answers a time-out by resending the batch split in two halves of 150 (its \`split-request\` recovery). Foreign traffic is not in the call log, so "received" is what Postout was answered. REST calls by the gateway's own count (its client's response events), per run: ${clean.clientCounted} / ${faulty.clientCounted} / ${shared.clientCounted}; by the sandbox's log: ${clean.rest} / ${faulty.rest} / ${shared.rest}.`,
);
process.stdout.write(`${lines.join("\n")}\n`);
