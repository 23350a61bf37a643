/**
 * The crash matrix (issue 12): every route × every crash moment. For each cell a small leads
 * file goes through `postout post` with `POSTOUT_CRASH_AT` set, the process must die there by
 * SIGKILL, then the same command runs again without it (what an operator does), and what
 * Marketo holds is counted against the store (matrix-count.ts): every source lead exactly once
 * in Marketo and delivered, or in front of a person with the route's code; none lost,
 * duplicated or mixed.
 *
 * Marketo is one `marketo-sandbox` process per lane, reset before each cell; lanes run cells
 * side by side. A moment the process never reaches is a defect of the test: the cell says so.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarketoClient } from "@postout/marketo";
import Database from "better-sqlite3";
import {
  type CellCount,
  type CellExpectation,
  countCell,
  type ExistingOutcome,
  type MarketoRecords,
  type SourceLead,
  type StoreLead,
} from "./matrix-count.ts";
import {
  CLEAN_ENV,
  runPostout,
  type SandboxProcess,
  spawnPostout,
  startSandboxProcess,
} from "./processes.ts";

type FollowUp = "list" | "customObject" | "activity";

/** A route of the matrix: the CLI flags and what must become of its leads. */
export interface MatrixRoute {
  readonly name: string;
  readonly flags: readonly string[];
  readonly followUp?: FollowUp;
  /** Leads whose email exists in Marketo before the post: every n-th (1: all), and their end. */
  readonly existing?: { readonly every: number; readonly outcome: ExistingOutcome };
  /** Rows without an email (createDuplicate: nothing to look a lost create up by). */
  readonly withoutEmail?: boolean;
  /** Whether the post creates leads (created after the cell started). */
  readonly creates: boolean;
}

const LIST = "Newsletter Subscribers";
const PROGRAM = "2026 Q3 Product Webinar";
const ACTIVITY_TYPE = 100001;
/** The activity Marketo writes for every Push Lead call (sandbox: the standard type 145). */
const PUSH_ACTIVITY_TYPE = 145;

export const MATRIX_ROUTES: readonly MatrixRoute[] = [
  { name: "createOrUpdate", flags: ["--action", "createOrUpdate"], creates: true },
  {
    name: "updateOnly",
    flags: ["--action", "updateOnly"],
    existing: { every: 1, outcome: "updated" },
    creates: false,
  },
  {
    name: "createOnly",
    flags: ["--action", "createOnly"],
    existing: { every: 4, outcome: "refused" },
    creates: true,
  },
  {
    name: "createDuplicate",
    flags: ["--action", "createDuplicate"],
    existing: { every: 4, outcome: "new" },
    creates: true,
  },
  {
    name: "createDuplicate, no email",
    flags: ["--action", "createDuplicate"],
    withoutEmail: true,
    creates: true,
  },
  {
    name: "Push Lead",
    flags: ["--program", PROGRAM, "--source", "crash-matrix", "--reason", "exactly once"],
    creates: true,
  },
  {
    name: "createOrUpdate + list",
    flags: ["--action", "createOrUpdate", "--list", LIST],
    followUp: "list",
    creates: true,
  },
  {
    name: "createOrUpdate + custom object",
    flags: ["--action", "createOrUpdate", "--custom-object", "car_c"].concat([
      "--custom-object-fields",
      "vin,make",
    ]),
    followUp: "customObject",
    creates: true,
  },
  {
    name: "createOrUpdate + activity",
    flags: ["--action", "createOrUpdate", "--activity-type", String(ACTIVITY_TYPE)].concat([
      "--activity-primary",
      "booth",
      "--activity-fields",
      "minutes",
    ]),
    followUp: "activity",
    creates: true,
  },
  {
    name: "createDuplicate + list",
    flags: ["--action", "createDuplicate", "--list", LIST],
    followUp: "list",
    creates: true,
  },
];

/**
 * The moments a route's cells crash at: the lead step's gate, wire mark, sent call and
 * answer; the same after the wire mark for its follow-up step; and a recorded round.
 */
export function momentsOf(route: MatrixRoute): string[] {
  const steps = route.followUp ? [route.followUp] : [];
  return [
    "gate@lead",
    "wire@lead",
    "sent@lead",
    "answer@lead",
    ...steps.flatMap((s) => [`wire@${s}`, `sent@${s}`, `answer@${s}`]),
    "recorded",
  ];
}

export interface MatrixOptions {
  readonly leadsPerCell: number;
  /** Sandboxes, each running one cell at a time. @default 1 */
  readonly lanes?: number;
  /** The sandbox's time scale (latency, rate window). @default 0.25 */
  readonly timeScale?: number;
  /**
   * Which call's wire mark or send the `wire` and `sent` moments kill at (`:n`): above 1 when a
   * cell spans several calls, so the calls before it went out whole. @default 1
   */
  readonly call?: number;
  /** Only these routes (by name). @default every route */
  readonly routes?: readonly string[];
  /** Longest a single `postout` run may take before it is killed as hung. @default 120_000 */
  readonly runTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface CellResult extends CellCount {
  readonly route: string;
  /** `POSTOUT_CRASH_AT` of the first run. */
  readonly crashAt: string;
  /** Whether the first run died by SIGKILL at the crash point. */
  readonly killed: boolean;
  /** What went wrong with the cell itself (a moment never reached, a run that hung). */
  readonly error?: string;
  /** Exit code of the run after the crash. */
  readonly rerunCode: number | null;
  /** For a cell with problems: `postout report --json --attempts` rows of those leads. */
  readonly attempts?: readonly Record<string, unknown>[];
  readonly seconds: number;
}

export interface MatrixResult {
  readonly cells: readonly CellResult[];
  readonly seconds: number;
}

/** The cells a run of the matrix has, in order. */
export function matrixCells(
  options: Pick<MatrixOptions, "routes" | "call">,
): { route: MatrixRoute; crashAt: string }[] {
  const routes = MATRIX_ROUTES.filter((r) => !options.routes || options.routes.includes(r.name));
  return routes.flatMap((route) =>
    momentsOf(route).map((moment) => ({
      route,
      crashAt:
        (options.call ?? 1) > 1 && /^(wire|sent)@/.test(moment)
          ? `${moment}:${options.call}`
          : moment,
    })),
  );
}

export async function runCrashMatrix(o: MatrixOptions): Promise<MatrixResult> {
  const started = performance.now();
  const root = mkdtempSync(join(tmpdir(), "postout-crash-matrix-"));
  const queue = matrixCells(o);
  const results = new Map<number, CellResult>();
  const sandboxes: SandboxProcess[] = [];
  try {
    const lanes = Math.max(1, Math.min(o.lanes ?? 1, queue.length));
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const sandbox = await startSandboxProcess([
          "--seed",
          String(lane + 1),
          "--time-scale",
          String(o.timeScale ?? 0.25),
        ]);
        sandboxes.push(sandbox);
        for (let k = next++; k < queue.length; k = next++) {
          const cell = queue[k] as (typeof queue)[number];
          const dir = join(root, `cell-${k}`);
          mkdirSync(dir);
          const r = await runCell(sandbox, dir, root, cell.route, cell.crashAt, o);
          results.set(k, r);
          o.log?.(
            `${r.route} × ${r.crashAt}: ${r.error ?? "killed"}; once ${r.once}, person ${JSON.stringify(r.needsPerson)}, lost ${r.lost}, duplicated ${r.duplicated}, mixed ${r.mixed}, wrong ${r.wrong}, pushed twice ${r.repeated} (${r.seconds.toFixed(1)} s)`,
          );
        }
      }),
    );
    return {
      cells: queue.map((_, k) => results.get(k) as CellResult),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Promise.all(sandboxes.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** The rows of a cell's leads file: distinct values in every identity field. */
function sourceRows(route: MatrixRoute, n: number): Record<string, string | number>[] {
  return Array.from({ length: n }, (_, i) => ({
    ...(route.withoutEmail ? {} : { email: `cm${i}@example.com` }),
    firstName: `First${i}`,
    lastName: `Last${i}`,
    company: `Co${i}`,
    ...(route.followUp === "customObject" ? { vin: `VIN${i}`, make: `Make${i}` } : {}),
    ...(route.followUp === "activity" ? { booth: `Booth${i}`, minutes: (i % 60) + 1 } : {}),
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Leads that exist before the post: the same email, other names. Resolves to their ids by row. */
async function preExisting(
  sandbox: SandboxProcess,
  route: MatrixRoute,
  rows: readonly Record<string, string | number>[],
): Promise<Map<number, number>> {
  const ids = new Map<number, number>();
  const every = route.existing?.every;
  if (every === undefined) return ids;
  const client = new MarketoClient({
    baseUrl: sandbox.url,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
  });
  const picked = rows.map((_, i) => i).filter((i) => i % every === 0);
  const answer = await client.syncLeads(
    picked.map((i) => ({
      email: String(rows[i]?.email),
      firstName: `Old${i}`,
      lastName: `OldLast${i}`,
    })),
    { action: "createOnly" },
  );
  answer.results.forEach((r, k) => {
    if (r.id === undefined) throw new Error(`pre-existing lead ${picked[k]}: ${r.status}`);
    ids.set(picked[k] as number, Number(r.id));
  });
  // createdAt has whole seconds: start the cell in the next one, so a lead created by the post
  // is told from an old one by its createdAt too.
  await sleep(1000 - (Date.now() % 1000) + 10);
  return ids;
}

async function readRecords(url: string): Promise<MarketoRecords> {
  const leads: MarketoRecords["leads"][number][] = [];
  const lists: Record<string, number[]> = {};
  const activities: MarketoRecords["activities"][number][] = [];
  let customObjects: MarketoRecords["customObjects"] = {};
  let after: number | null = 0;
  let activitiesAfter: number | null = 0;
  // Bounded: each page moves at least one cursor on, and no cell holds 100 pages.
  for (let page = 0; page < 100 && (after !== null || activitiesAfter !== null); page++) {
    const r = (await (
      await fetch(
        `${url}/_sandbox/records?limit=10000&after=${after ?? 1e15}&activitiesAfter=${activitiesAfter ?? 1e15}`,
      )
    ).json()) as MarketoRecords & {
      next: { after: number | null; activitiesAfter: number | null };
      totals: { customObjects: Record<string, number> };
    };
    leads.push(...r.leads);
    for (const [name, ids] of Object.entries(r.lists))
      lists[name] = [...(lists[name] ?? []), ...ids];
    activities.push(...r.activities);
    customObjects = r.customObjects;
    for (const [name, n] of Object.entries(r.totals.customObjects)) {
      if ((customObjects[name]?.length ?? 0) < n) throw new Error(`${name}: more than a page`);
    }
    after = r.next.after;
    activitiesAfter = r.next.activitiesAfter;
  }
  return { leads, lists, customObjects, activities };
}

function readStore(db: string): StoreLead[] {
  const store = new Database(db, { readonly: true });
  try {
    return (
      store.prepare("SELECT id, input, status, last_code, marketo_id FROM leads").all() as {
        id: number;
        input: string | null;
        status: string;
        last_code: string | null;
        marketo_id: number | null;
      }[]
    ).map((r) => ({
      id: r.id,
      input: r.input === null ? {} : (JSON.parse(r.input) as Record<string, unknown>),
      status: r.status,
      lastCode: r.last_code,
      marketoId: r.marketo_id,
    }));
  } finally {
    store.close();
  }
}

async function runCell(
  sandbox: SandboxProcess,
  dir: string,
  root: string,
  route: MatrixRoute,
  crashAt: string,
  o: MatrixOptions,
): Promise<CellResult> {
  const started = performance.now();
  await fetch(`${sandbox.url}/_sandbox/reset`, { method: "POST" });
  const rows = sourceRows(route, o.leadsPerCell);
  const existing = await preExisting(sandbox, route, rows);
  const startedAt = Date.now();
  writeFileSync(join(dir, "leads.jsonl"), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  // The file names the variable holding the secret, not the secret.
  writeFileSync(
    join(dir, "postout.config.json"),
    JSON.stringify({
      destinations: [
        {
          name: "main",
          baseUrl: sandbox.url,
          clientId: sandbox.clientId,
          clientSecretEnv: "MATRIX_MARKETO_SECRET",
        },
      ],
      verify: { settleMs: 1000 },
    }),
  );
  const db = join(dir, "postout.db");
  const args = ["post", "leads.jsonl", ...route.flags, "--db", db, "--json"];
  const env = {
    ...CLEAN_ENV,
    MATRIX_MARKETO_SECRET: sandbox.clientSecret,
    // Each run is a new process: cache the compiled modules across them.
    NODE_COMPILE_CACHE: join(root, "compile-cache"),
  };
  const timeoutMs = o.runTimeoutMs ?? 120_000;

  const first = spawnPostout(args, { cwd: dir, env: { ...env, POSTOUT_CRASH_AT: crashAt } });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    first.child.kill("SIGKILL");
  }, timeoutMs);
  const exit = await first.exited;
  clearTimeout(timer);
  const killed = exit.signal === "SIGKILL" && !hung;
  const error = hung
    ? `the crashing run hung for ${timeoutMs} ms`
    : killed
      ? undefined
      : `the crash at ${crashAt} was never reached: exit ${exit.code} ${exit.signal ?? ""}, ${first.stderr().trim().slice(-300)}`;

  const rerun = await runPostout(args, { cwd: dir, env, timeoutMs });
  const sources: SourceLead[] = rows.map((fields, index) => {
    const id = existing.get(index);
    return id === undefined ? { index, fields } : { index, fields, existingId: id };
  });
  const expect: CellExpectation = {
    creates: route.creates,
    ...(route.existing ? { existing: route.existing.outcome } : {}),
    uncertainAllowed: route.withoutEmail === true,
    ...(route.followUp === "list" ? { list: LIST } : {}),
    ...(route.followUp === "customObject"
      ? { customObject: { apiName: "car_c", keyField: "vin" } }
      : {}),
    ...(route.followUp === "activity"
      ? { activity: { typeId: ACTIVITY_TYPE, primaryField: "booth" } }
      : {}),
    ...(route.flags.includes("--program") ? { pushActivityType: PUSH_ACTIVITY_TYPE } : {}),
    startedAt,
  };
  const count = countCell(sources, await readRecords(sandbox.url), readStore(db), expect);
  let attempts: Record<string, unknown>[] | undefined;
  if (count.problemLeads.length > 0) {
    const report = await runPostout(["report", "--json", "--attempts", "--db", db], {
      cwd: dir,
      env,
      timeoutMs,
    });
    const wanted = new Set(count.problemLeads.slice(0, 3));
    attempts = (JSON.parse(report.stdout) as Record<string, unknown>[]).filter((a) =>
      wanted.has(a.LeadId as number),
    );
  }
  return {
    route: route.name,
    crashAt,
    killed,
    ...(error === undefined ? {} : { error }),
    rerunCode: rerun.code,
    ...count,
    ...(attempts ? { attempts } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The matrix as a Markdown table: route × moment → the figures. */
export function matrixTable(cells: readonly CellResult[]): string {
  const person = (c: CellResult) => {
    const codes = Object.entries(c.needsPerson).map(([code, n]) => `${n} (${code})`);
    if (codes.length === 0) return "0";
    return `${codes.join(", ")}; ${c.needsPersonInMarketo} of them in Marketo`;
  };
  return [
    "| route | crash at | killed there | leads | in Marketo once | needs a person (code) | lost | duplicated | mixed | wrong | pushed twice |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...cells.map(
      (c) =>
        `| ${c.route} | \`${c.crashAt}\` | ${c.killed ? "yes" : `**no**: ${(c.error ?? "").replaceAll("|", "/").replaceAll("\n", " ")}`} | ${c.leads} | ${c.once} | ${person(c)} | ${c.lost} | ${c.duplicated} | ${c.mixed} | ${c.wrong} | ${c.repeated} |`,
    ),
  ].join("\n");
}
