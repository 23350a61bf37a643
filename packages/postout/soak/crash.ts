/**
 * Crash scenario (issue 7): `kill -9` the gateway at random moments of a run and start it
 * again each time; afterwards every lead is in Marketo exactly once and delivered in the store.
 *
 * The gateway is the `postout` CLI as a subprocess and the restart is what an operator of a
 * batch job does: run the same `postout post leads.csv` again. Intake is idempotent (a row
 * already accepted is recognised by its key), and a new process gives back the leads a dead
 * one left claimed. Marketo is a `marketo-sandbox` process behind a recording proxy that
 * learns every token issued; both outlive the kills.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarketoClient } from "@postout/marketo";
import Database from "better-sqlite3";
import {
  CLEAN_ENV,
  type PostoutRun,
  reportTexts,
  runPostout,
  type SandboxProcess,
  spawnPostout,
  startSandboxProcess,
} from "./processes.ts";
import { seeded } from "./random.ts";
import { type ScanResult, scanForSecrets } from "./secrets.ts";
import { IssuedTokens, startTokenTap } from "./token-tap.ts";

export interface CrashOptions {
  readonly leads: number;
  readonly kills: number;
  readonly seed: number;
  /** The sandbox's time scale (latency, window, token lifetime). */
  readonly timeScale: number;
  /** @default "createOrUpdate" */
  readonly action?: "createOrUpdate" | "createDuplicate" | "createOnly";
  /** The destination's share of Marketo's 10 concurrent calls; fewer spread a run out. */
  readonly concurrency?: number;
  /** Progress marks are drawn below this share of the leads. @default 0.9 */
  readonly maxMarkShare?: number;
  /** Longest extra wait after a kill's progress mark is reached. @default 400 */
  readonly maxDelayMs?: number;
  /** Longest a single run may take before it is killed as hung. @default 600_000 */
  readonly runTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** One kill: when it was meant to land and what had reached Marketo at that moment. */
export interface Kill {
  readonly run: number;
  /** Leads in Marketo the kill waited for, then a random delay. */
  readonly mark: number;
  readonly delayMs: number;
  /** Whether the process was still running and was killed (else it had ended by itself). */
  readonly killed: boolean;
  readonly afterMs: number;
  readonly leadsInMarketo: number;
  /** For a run that ended by itself: its exit code and the end of its stderr. */
  readonly ended?: { readonly code: number | null; readonly stderr: string };
}

export interface CrashResult {
  readonly leads: number;
  readonly kills: readonly Kill[];
  readonly final: { readonly code: number | null; readonly summary: Record<string, unknown> };
  readonly marketo: {
    readonly leads: number;
    readonly leadsSharingEmail: number;
    /** Source emails not found in Marketo. */
    readonly missing: number;
    /** Source emails found more than once. */
    readonly duplicated: number;
  };
  readonly store: {
    readonly byStatus: Record<string, number>;
    /** Delivered leads whose Marketo id is not the one Marketo holds for their email. */
    readonly wrongId: number;
    /** Leads with more than one successful send (a send a kill cut off, resent as an update). */
    readonly sentTwice: number;
    readonly attempts: number;
  };
  readonly secrets: ScanResult;
  readonly tokensIssued: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCrashScenario(o: CrashOptions): Promise<CrashResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const action = o.action ?? "createOrUpdate";
  const dir = mkdtempSync(join(tmpdir(), "postout-soak-crash-"));
  let sandbox: SandboxProcess | undefined;
  let tap: Awaited<ReturnType<typeof startTokenTap>> | undefined;
  let running: PostoutRun | undefined;
  try {
    sandbox = await startSandboxProcess([
      "--seed",
      String(o.seed),
      "--time-scale",
      String(o.timeScale),
    ]);
    const tokens = new IssuedTokens();
    tap = await startTokenTap(sandbox.url, tokens);
    // The file names the variable holding the secret, not the secret.
    writeFileSync(
      join(dir, "postout.config.json"),
      JSON.stringify({
        destinations: [
          {
            name: "main",
            baseUrl: tap.url,
            clientId: sandbox.clientId,
            clientSecretEnv: "SOAK_MARKETO_SECRET",
            ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
          },
        ],
        // A call cut off by a kill is looked for 2 s after it went out: the sandbox, at a
        // fraction of Marketo's latency, has finished it by then.
        verify: { settleMs: 2000 },
      }),
    );
    const env = { ...CLEAN_ENV, SOAK_MARKETO_SECRET: sandbox.clientSecret };
    const emails = Array.from({ length: o.leads }, (_, i) => `crash${i}@example.com`);
    writeFileSync(
      join(dir, "leads.csv"),
      `email,firstName,lastName,company\n${emails.map((e, i) => `${e},F${i},L${i},Crash Co`).join("\n")}\n`,
    );
    const db = join(dir, "postout.db");
    const args = ["post", "leads.csv", "--action", action, "--db", db];
    const texts = new Map<string, string>();

    // The moments: a progress mark (leads in Marketo, 0 … 90 % of the file) and a delay after it.
    const random = seeded(o.seed);
    const marks = Array.from({ length: o.kills }, () =>
      Math.floor(random() * (o.maxMarkShare ?? 0.9) * o.leads),
    ).sort((a, b) => a - b);
    const delays = marks.map(() => Math.floor(random() * (o.maxDelayMs ?? 400)));
    const kills: Kill[] = [];
    for (let i = 0; i < o.kills; i++) {
      const mark = marks[i] as number;
      const delayMs = delays[i] as number;
      const t0 = performance.now();
      const run = spawnPostout(args, { cwd: dir, env });
      running = run;
      let ended = false;
      void run.exited.then(() => {
        ended = true;
      });
      const deadline = t0 + (o.runTimeoutMs ?? 600_000);
      while (!ended && performance.now() < deadline && (await sandbox.state()).leads < mark) {
        await sleep(15);
      }
      await Promise.race([sleep(delayMs), run.exited]);
      const killed = !ended;
      if (killed) run.child.kill("SIGKILL");
      const exit = await run.exited;
      const leadsInMarketo = (await sandbox.state()).leads;
      texts.set(`run ${i + 1} stdout`, run.stdout());
      texts.set(`run ${i + 1} stderr`, run.stderr());
      const kill = {
        run: i + 1,
        mark,
        delayMs,
        killed,
        afterMs: Math.round(performance.now() - t0),
        leadsInMarketo,
        ...(killed ? {} : { ended: { code: exit.code, stderr: run.stderr().slice(-300) } }),
      };
      kills.push(kill);
      log(
        `run ${kill.run}: ${killed ? "killed" : `ended by itself (${exit.code})`} after ${kill.afterMs} ms, mark ${mark} + ${delayMs} ms, ${leadsInMarketo} leads in Marketo`,
      );
    }
    running = undefined;

    const last = await runPostout([...args, "--json"], {
      cwd: dir,
      env,
      timeoutMs: o.runTimeoutMs ?? 600_000,
    });
    texts.set("final run stdout", last.stdout);
    texts.set("final run stderr", last.stderr);
    let summary: Record<string, unknown> = {};
    try {
      summary = JSON.parse(last.stdout) as Record<string, unknown>;
    } catch {
      summary = { unreadable: last.stdout.slice(0, 500) };
    }
    log(`final run: exit ${last.code}, ${JSON.stringify(summary)}`);

    // Marketo's side: every source email looked up; a lead created twice shows as two matches.
    const state = await sandbox.state();
    const client = new MarketoClient({
      baseUrl: tap.url,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    const found = new Map<string, number[]>();
    for await (const page of client.getLeadsByFilter({
      filterType: "email",
      filterValues: emails,
      fields: ["id", "email"],
    })) {
      for (const lead of page) {
        const email = String(lead.email).toLowerCase();
        found.set(email, [...(found.get(email) ?? []), lead.id as number]);
      }
    }
    const missing = emails.filter((e) => !found.has(e)).length;
    const duplicated = [...found.values()].filter((ids) => ids.length > 1).length;

    // The gateway's side: every lead delivered, with the id Marketo holds for its email.
    const store = new Database(db, { readonly: true });
    const byStatus = Object.fromEntries(
      (
        store.prepare("SELECT status, count(*) AS n FROM leads GROUP BY status").all() as {
          status: string;
          n: number;
        }[]
      ).map((r) => [r.status, r.n]),
    );
    let wrongId = 0;
    for (const row of store
      .prepare("SELECT email, marketo_id FROM leads WHERE status = 'delivered'")
      .iterate() as Iterable<{ email: string; marketo_id: number | null }>) {
      const ids = found.get(row.email.toLowerCase());
      if (ids?.length !== 1 || ids[0] !== row.marketo_id) wrongId++;
    }
    const sentTwice = (
      store
        .prepare(
          `SELECT count(*) AS n FROM (SELECT lead_id FROM attempts WHERE status_code = '200'
             GROUP BY lead_id HAVING count(*) > 1)`,
        )
        .get() as { n: number }
    ).n;
    const attempts = (store.prepare("SELECT count(*) AS n FROM attempts").get() as { n: number }).n;
    store.close();

    const reports = await reportTexts(
      db,
      [
        ["report csv", ["--format", "csv"]],
        ["report json", ["--format", "json"]],
        ["report attempts csv", ["--attempts", "--format", "csv"]],
      ],
      { cwd: dir, env, timeoutMs: 300_000 },
    );
    for (const [name, text] of reports) texts.set(name, text);
    const secrets = scanForSecrets({
      clientSecret: sandbox.clientSecret,
      tokens: tokens.all,
      texts,
      databases: [db],
    });
    return {
      leads: o.leads,
      kills,
      final: { code: last.code, summary },
      marketo: {
        leads: state.leads,
        leadsSharingEmail: state.leadsSharingEmail,
        missing,
        duplicated,
      },
      store: { byStatus, wrongId, sentTwice, attempts },
      secrets,
      tokensIssued: tokens.all.length,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    running?.child.kill("SIGKILL");
    await tap?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
