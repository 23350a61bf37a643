/**
 * Faults scenario (issue 7): leads arrive through the HTTP API for a stretch of simulated
 * time while Marketo misbehaves in every documented way — transient codes at a seeded rate,
 * tokens revoked every 30 s, other apps' traffic causing 606 and 615, connection resets and
 * answers slower than the client's timeout. Every lead must be delivered and every write call
 * Marketo executed must be in the post-out log.
 *
 * The gateway runs in process against an in-process sandbox. Time is scaled: the sandbox's
 * windows, latency and token lifetime, and the gateway's own timeouts, backoff, gate window and
 * retry schedule are all multiplied by `timeScale`, so 5 simulated minutes take 15 s at 0.05.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TIMEOUTS, type Endpoint } from "@postout/marketo";
import { startSandbox } from "@postout/sandbox";
import Database from "better-sqlite3";
import type { Config } from "../src/config.ts";
import { Gateway } from "../src/gateway.ts";
import { createApp } from "../src/http/app.ts";
import { DEFAULT_RETRY_SCHEDULE_MS } from "../src/outcome.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { reportTexts } from "./processes.ts";
import { type ScanResult, scanForSecrets } from "./secrets.ts";
import { IssuedTokens } from "./token-tap.ts";

export interface FaultsOptions {
  /** How long leads keep arriving, in simulated minutes. */
  readonly simulatedMinutes: number;
  readonly timeScale: number;
  readonly seed: number;
  readonly leads: number;
  /** Share of REST and identity calls answered with a transient code. @default 0.1 */
  readonly transientRate?: number;
  /** Share of REST calls whose connection is reset. @default 0.02 */
  readonly resetRate?: number;
  /** Answers slower than the client's timeout, spread over the stretch. @default 3 */
  readonly slowAnswers?: number;
  /** Longest wait for the last leads after the stretch, in real ms. @default 120_000 */
  readonly drainTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface FaultsResult {
  readonly leads: number;
  readonly delivered: number;
  readonly byStatus: Record<string, number>;
  readonly realSeconds: number;
  readonly simulatedSeconds: number;
  /** Sandbox answers by code over the whole run: every fault it injected, and the 200s. */
  readonly answers: Record<string, number>;
  readonly injected: {
    readonly transient: number;
    readonly resets: number;
    readonly slow: number;
    readonly revocations: number;
    readonly foreignBursts: number;
    readonly foreignHolds: number;
  };
  readonly writes: {
    /** Sync Leads calls Marketo received, by code. */
    readonly calls: Record<string, number>;
    /** Executed calls answered within the client's timeout. */
    readonly answeredInTime: number;
    /** Executed calls whose answer came after the client gave up (slow faults). */
    readonly answeredLate: number;
    /** Calls answered with Marketo's envelope (a requestId) within the client's timeout. */
    readonly answeredWithEnvelope: number;
    /** Calls answered with an envelope within the timeout whose requestId no attempt row carries. */
    readonly missingFromLog: number;
    /** requestIds in the log that Marketo never answered. */
    readonly unknownToMarketo: number;
    /** Calls the client saw no envelope of, by the code it logs them with (network, timeout, 5xx). */
    readonly withoutEnvelope: Record<string, number>;
    /** The same calls as the log holds them (rows of one call share their moment and duration). */
    readonly withoutEnvelopeLogged: Record<string, number>;
    readonly attemptRows: number;
    readonly failedAttemptRows: number;
    /** The failed attempt rows by code, outcome and reason. */
    readonly failedAttempts: readonly string[];
  };
  /** The destination's pause state at the end. */
  readonly pauses: readonly unknown[];
  readonly apiAnswers: number;
  /** API answers with a 5xx status: a crash behind the API. */
  readonly apiErrors: number;
  readonly tokensIssued: number;
  readonly secrets: ScanResult;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Codes Marketo may answer for a while and then not: the client and the gateway retry them. */
const TRANSIENT_REST = [502, 503, "604", "608", "611", "713"] as const;
const API_KEY = "soak-faults-api-key-0123456789";

export async function runFaultsScenario(o: FaultsOptions): Promise<FaultsResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const s = o.timeScale;
  const realStretchMs = o.simulatedMinutes * 60_000 * s;
  const dir = mkdtempSync(join(tmpdir(), "postout-soak-faults-"));
  const logs: string[] = [];
  const sandbox = await startSandbox({ timeScale: s, seed: o.seed, callLogSize: 1_000_000 });
  const tokens = new IssuedTokens();
  const timeouts = Object.fromEntries(
    Object.entries(DEFAULT_TIMEOUTS).map(([k, v]) => [k, Math.round(v * s)]),
  ) as Record<Endpoint, number>;
  const config: Config = {
    db: join(dir, "postout.db"),
    sandbox: false,
    retry: { retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS.map((ms) => Math.round(ms * s)) },
    destinations: [
      {
        name: "main",
        baseUrl: sandbox.url,
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        callsPer20s: undefined,
        concurrency: undefined,
      },
    ],
  };
  const store = new SqliteStore(config.db);
  // The dispatcher reports failed rounds on stderr: keep what the gateway writes there.
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return (stderrWrite as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  const line = (level: string) => (message: string, data?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify(data ?? {})}`);
  let gateway: Gateway | undefined;
  let raw: Database.Database | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    gateway = await Gateway.open({
      store,
      config,
      announce: (l) => logs.push(l),
      clientOptions: {
        fetch: tokens.fetch(),
        timeouts,
        retry: {
          baseDelayMs: Math.max(1, Math.round(1_000 * s)),
          maxDelayMs: Math.round(30_000 * s),
          maxTotalMs: Math.round(300_000 * s),
        },
        gate: { windowMs: Math.round(20_000 * s), windowMarginMs: Math.round(250 * s) },
        logger: {
          debug: line("debug"),
          info: line("info"),
          warn: line("warn"),
          error: line("error"),
        },
      },
    });
    raw = new Database(config.db, { readonly: true });
    const app = createApp({
      gateway,
      apiKey: API_KEY,
      log: (l) => logs.push(l),
      mapDir: join(dir, "maps"),
    });
    const apiAnswers: string[] = [];
    let apiErrors = 0;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 500) apiErrors++;
      apiAnswers.push(
        `${method} ${path} ${res.status} ${JSON.stringify([...res.headers])}\n${text}`,
      );
      return { status: res.status, text };
    };

    // The faults. Several rate faults are drawn one after another, so each gets the rate that
    // makes their union the wanted share: 1 − (1 − r)^n = transientRate.
    const transientRate = o.transientRate ?? 0.1;
    const each = 1 - (1 - transientRate) ** (1 / TRANSIENT_REST.length);
    sandbox.faults.add({ code: "reset", endpoint: "/rest/", rate: o.resetRate ?? 0.02 });
    for (const code of TRANSIENT_REST) sandbox.faults.add({ code, endpoint: "/rest/", rate: each });
    sandbox.faults.add({ code: 503, endpoint: "/identity/", rate: transientRate });
    let revocations = 0;
    timers.push(
      setInterval(() => {
        sandbox.revokeTokens();
        revocations++;
      }, 30_000 * s),
    );
    // Other apps, once a simulated minute each: a burst of calls that fills the rate window
    // (our next calls get 606), and, half a minute later, every concurrency slot held for 5 s
    // (615).
    let foreignBursts = 0;
    let foreignHolds = 0;
    timers.push(
      setInterval(() => {
        sandbox.foreignTraffic({ calls: 100 });
        foreignBursts++;
        timers.push(
          setTimeout(() => {
            sandbox.foreignTraffic({ holdSlots: 10, holdMs: 5_000 });
            foreignHolds++;
          }, 30_000 * s),
        );
      }, 60_000 * s),
    );
    // A few resets at set moments besides the seeded rate, so a short run surely has some; and
    // as many one-shot 615s (the next write finds every slot taken), since a short run's sparse
    // calls can miss all the foreign holds above.
    for (let i = 1; i <= 3; i++) {
      timers.push(
        setTimeout(
          () => {
            sandbox.faults.add({ code: "reset", endpoint: "/rest/v1/leads.json", count: 1 });
            sandbox.faults.add({ code: 615, endpoint: "/rest/v1/leads.json", count: 1 });
          },
          (realStretchMs * (i - 0.5)) / 3,
        ),
      );
    }
    const slowAnswers = o.slowAnswers ?? 3;
    for (let i = 1; i <= slowAnswers; i++) {
      timers.push(
        setTimeout(
          () =>
            sandbox.faults.add({
              code: "slow",
              endpoint: "/rest/v1/leads.json",
              method: "POST",
              count: 1,
              delayMs: timeouts.syncLeads + 1_000,
            }),
          (realStretchMs * i) / (slowAnswers + 1),
        ),
      );
    }

    gateway.start();
    // The leads: an even stream through the API over the stretch, in requests of a few leads.
    const ticks = Math.max(1, Math.floor(realStretchMs / 100));
    let sent = 0;
    const t0 = performance.now();
    for (let k = 1; k <= ticks && sent < o.leads; k++) {
      const upTo = Math.min(o.leads, Math.round((o.leads * k) / ticks));
      const leads = [];
      for (; sent < upTo; sent++) {
        leads.push({ Email: `fault${sent}@example.com`, First: `F${sent}`, Company: "Faults Co" });
      }
      if (leads.length > 0) {
        const r = await api("POST", "/v1/leads", {
          route: { endpoint: "syncLeads", action: "createOrUpdate" },
          map: { fields: { Email: "email", First: "firstName", Company: "company" } },
          leads,
        });
        if (r.status !== 202) throw new Error(`intake answered ${r.status}: ${r.text}`);
      }
      const wait = t0 + k * 100 - performance.now();
      if (wait > 0) await sleep(wait);
    }
    log(`faults: ${sent} leads taken in over ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // The faults go on until every lead is delivered, or the wait runs out.
    const deadline = performance.now() + (o.drainTimeoutMs ?? 120_000);
    let counts = await store.countByStatus({});
    while (counts.delivered < o.leads && performance.now() < deadline) {
      await sleep(250);
      counts = await store.countByStatus({});
    }
    for (const t of timers) clearInterval(t);
    sandbox.faults.clear();
    const realSeconds = (performance.now() - t0) / 1000;
    log(`faults: ${counts.delivered} of ${o.leads} delivered after ${realSeconds.toFixed(1)} s`);

    // What the API shows of it: the list, the detail of the leads tried most, the report.
    await api("GET", "/v1/leads?limit=100");
    const most = raw.prepare("SELECT id FROM leads ORDER BY attempts DESC, id LIMIT 20").all() as {
      id: number;
    }[];
    for (const { id } of most) await api("GET", `/v1/leads/${id}`);
    await api("GET", "/v1/report?format=csv&attempts=true");
    await api("GET", "/v1/report?format=json");
    await api("GET", "/v1/destinations");
    await api("GET", "/metrics");

    await gateway.scheduler.stop();
    // A slow answer the client gave up on is still being served, and Marketo's call log has it
    // only once it is answered: wait for the calls in flight to end (at most one slow answer).
    const inFlight = () => (sandbox.state() as { calls: { inFlight: number } }).calls.inFlight;
    const settled = performance.now() + timeouts.syncLeads + 2_000;
    while (inFlight() > 0 && performance.now() < settled) await sleep(50);

    // Every write call Marketo received is in the log. A call answered with Marketo's envelope
    // in time is found by its requestId (the call that decided a lead and every call the client
    // sent again alike); a call the client saw no envelope of (an HTML 5xx, a reset connection,
    // an answer past the timeout) has no requestId, and its rows share the moment and duration
    // the client logged them with: those are counted per code against Marketo's. (The rows that
    // decide a round share one moment and duration for the whole write, so two batches of one
    // write both ending on the same such code would count once; a batch ends so only after
    // failing every client try, which these fault rates make vanishingly rare.)
    const calls = sandbox
      .calls()
      .filter((c) => c.method === "POST" && c.path === "/rest/v1/leads.json");
    const writeCalls: Record<string, number> = {};
    for (const c of calls) writeCalls[c.code] = (writeCalls[c.code] ?? 0) + 1;
    const executed = calls.filter((c) => c.code === "200");
    const inTime = executed.filter((c) => c.durationMs < timeouts.syncLeads);
    const late = (c: (typeof calls)[number]) => c.durationMs >= timeouts.syncLeads;
    const enveloped = calls.filter((c) => c.requestId !== undefined && !late(c));
    const blind: Record<string, number> = {};
    for (const c of calls) {
      if (c.requestId !== undefined && !late(c)) continue;
      const seen = c.requestId !== undefined ? "timeout" : c.code === "reset" ? "network" : c.code;
      blind[seen] = (blind[seen] ?? 0) + 1;
    }
    const logged = new Set(
      (
        raw
          .prepare(
            "SELECT DISTINCT request_id FROM attempts WHERE endpoint = '/rest/v1/leads.json' AND request_id IS NOT NULL",
          )
          .all() as { request_id: string }[]
      ).map((r) => r.request_id),
    );
    const loggedBlind = Object.fromEntries(
      (
        raw
          .prepare(
            `SELECT status_code AS code, count(*) AS n FROM (
               SELECT DISTINCT status_code, at, duration_ms FROM attempts
               WHERE endpoint = '/rest/v1/leads.json' AND request_id IS NULL)
             GROUP BY status_code`,
          )
          .all() as { code: string; n: number }[]
      ).map((r) => [r.code, r.n]),
    ) as Record<string, number>;
    const executedIds = new Set(calls.map((c) => c.requestId));
    const attemptRows = (raw.prepare("SELECT count(*) AS n FROM attempts").get() as { n: number })
      .n;
    const failedAttemptRows = (
      raw.prepare("SELECT count(*) AS n FROM attempts WHERE status_code <> '200'").get() as {
        n: number;
      }
    ).n;
    const failedAttempts = (
      raw
        .prepare(
          "SELECT status_code, reason, outcome, count(*) AS n FROM attempts WHERE status_code <> '200' GROUP BY 1, 2, 3",
        )
        .all() as { status_code: string; reason: string; outcome: string; n: number }[]
    ).map((r) => `${r.n} × ${r.status_code} → ${r.outcome}: ${r.reason}`);
    const pauses = raw.prepare("SELECT * FROM destinations").all();
    const byStatus = { ...(await store.countByStatus({})) } as Record<string, number>;
    const state = sandbox.state() as { calls: { byCode: Record<string, number> } };
    const answers = state.calls.byCode;
    const transientCodes = TRANSIENT_REST.map(String);
    const result = {
      leads: o.leads,
      delivered: byStatus.delivered ?? 0,
      byStatus,
      realSeconds,
      simulatedSeconds: realSeconds / s,
      answers,
      injected: {
        transient: transientCodes.reduce((n, c) => n + (answers[c] ?? 0), 0),
        resets: answers.reset ?? 0,
        slow: executed.length - inTime.length,
        revocations,
        foreignBursts,
        foreignHolds,
      },
      writes: {
        calls: writeCalls,
        answeredInTime: inTime.length,
        answeredLate: executed.length - inTime.length,
        answeredWithEnvelope: enveloped.length,
        missingFromLog: enveloped.filter((c) => !logged.has(c.requestId as string)).length,
        unknownToMarketo: [...logged].filter((id) => !executedIds.has(id)).length,
        withoutEnvelope: blind,
        withoutEnvelopeLogged: loggedBlind,
        attemptRows,
        failedAttemptRows,
        failedAttempts,
      },
      pauses,
      apiAnswers: apiAnswers.length,
      apiErrors,
      tokensIssued: tokens.all.length,
    };
    await gateway.close();
    gateway = undefined;
    const texts = new Map<string, string>([
      ["gateway log (client logger, dispatcher stderr, API log)", logs.join("\n")],
      ["API answers", apiAnswers.join("\n")],
    ]);
    const reports = await reportTexts(
      config.db,
      [
        ["report csv", ["--format", "csv"]],
        ["report attempts json", ["--attempts", "--format", "json"]],
      ],
      { cwd: dir, env: { ...process.env, POSTOUT_DB: config.db }, timeoutMs: 120_000 },
    );
    for (const [name, text] of reports) texts.set(name, text);
    const secrets = scanForSecrets({
      clientSecret: sandbox.clientSecret,
      tokens: tokens.all,
      texts,
      databases: [config.db],
    });
    return { ...result, secrets };
  } finally {
    for (const t of timers) clearInterval(t);
    process.stderr.write = stderrWrite;
    await gateway?.close();
    raw?.close();
    await store.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    log(`faults: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
