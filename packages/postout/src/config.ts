import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_RETRY_SCHEDULE_MS, type OutcomePolicy } from "./outcome.ts";
import type { VerifyOptions } from "./verify.ts";

/** A Marketo instance leads are posted to. Credentials come from the environment or the config file, never the database. */
export interface DestinationConfig {
  readonly name: string;
  /** e.g. `https://123-ABC-456.mktorest.com`; `undefined` for the built-in sandbox. */
  readonly baseUrl: string | undefined;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  /** Postout's share of the instance's 100 calls per 20 s (other apps use it too). */
  readonly callsPer20s: number | undefined;
  /** Postout's share of the instance's 10 concurrent calls. */
  readonly concurrency: number | undefined;
  /** Calls a day Postout may make to the instance (its gate refuses more until the quota day ends). */
  readonly dailyBudget?: number;
  /**
   * A lead field of the instance (a text field created for Postout) into which every
   * createOnly/createDuplicate lead carries Postout's own id for it: a cut-off create is then
   * found by that id alone, not by its times and values.
   */
  readonly markerField?: string;
}

export interface Config {
  /** @default "./data/postout.db" */
  readonly db: string;
  readonly destinations: readonly DestinationConfig[];
  /** True when no Marketo is configured and the built-in sandbox stands in. */
  readonly sandbox: boolean;
  /** When failed leads are tried again; `undefined` for the default schedule (1 min … 6 h). */
  readonly retry: OutcomePolicy | undefined;
  /** How leads whose call may be in Marketo are verified; `undefined` for the defaults (settle 60 s, skew 5 s). */
  readonly verify?: Partial<VerifyOptions>;
  /** The scheduler's destination lease and tick; `undefined` for the defaults (lease 15 s, tick 250 ms). */
  readonly scheduler?: SchedulerTiming;
}

/** The scheduler's timing a config file may set (see SchedulerOptions). */
export interface SchedulerTiming {
  /** How long a destination lease lasts unless renewed: a dead process's destinations move this long after its last renewal. */
  readonly leaseMs?: number;
  /** Time between looks for due leads (another process's new leads wait at most this long). */
  readonly tickMs?: number;
}

/** A configuration mistake: the CLI exits 2 with this message. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export const DEFAULT_DB = "./data/postout.db";

/** The one destination when no Marketo is configured: the built-in sandbox. */
export const SANDBOX_DESTINATION: DestinationConfig = {
  name: "sandbox",
  baseUrl: undefined,
  clientId: undefined,
  clientSecret: undefined,
  callsPer20s: undefined,
  concurrency: undefined,
};
export const DEFAULT_CONFIG_FILE = "postout.config.json";

const destinationSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, '_', '.', '-' (at most 64)"),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** Names of environment variables to read the credentials from, so the file holds no secret. */
    clientIdEnv: z.string().min(1).optional(),
    clientSecretEnv: z.string().min(1).optional(),
    callsPer20s: z.number().int().min(1).max(100).optional(),
    concurrency: z.number().int().min(1).max(10).optional(),
    dailyBudget: z.number().int().min(1).max(100_000_000).optional(),
    markerField: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, "a lead field's API name, e.g. postoutId")
      .optional(),
  })
  .strict();

const delays = z
  .array(
    z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3_600_000),
  )
  .min(1)
  .max(20);

const fileSchema = z
  .object({
    db: z.string().min(1).optional(),
    /** Retry schedule in ms after each failed attempt, and per-code overrides: `{"611": [600000]}`. */
    retry: z
      .object({
        scheduleMs: delays.optional(),
        perCode: z
          .record(z.string().regex(/^\d{3,4}$/, "a Marketo code such as 611"), delays)
          .optional(),
      })
      .strict()
      .optional(),
    destinations: z.array(destinationSchema).min(1).optional(),
    /**
     * A lead whose call was cut off (a crash, a lost answer) is looked for in Marketo `settleMs`
     * after the call went out; a lead created up to `skewMs` before that still counts as its.
     */
    verify: z
      .object({
        settleMs: z.number().int().min(100).max(3_600_000).optional(),
        skewMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    /**
     * Several processes on PostgreSQL: how long a destination lease lasts unless renewed (a dead
     * process's destinations are taken over within about that), and the tick between looks for
     * leads another process accepted.
     */
    scheduler: z
      .object({
        leaseMs: z.number().int().min(1000).max(3_600_000).optional(),
        tickMs: z.number().int().min(10).max(60_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top)"}: ${issue.message}`)
    .join("; ");
}

function readFile(path: string): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(`the config file ${path} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export interface ConfigSources {
  /** `--config`: a path that must exist. Without it, `./postout.config.json` is read when present. */
  readonly configFile?: string | undefined;
  /** `--db` */
  readonly db?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Configuration from flags, then the environment (`MARKETO_BASE_URL`, `MARKETO_CLIENT_ID`,
 * `MARKETO_CLIENT_SECRET`, `POSTOUT_DB`), then the config file. With no Marketo configured at
 * all, one destination named "sandbox" stands for the built-in sandbox.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const explicit = sources.configFile !== undefined;
  const path = resolve(cwd, sources.configFile ?? DEFAULT_CONFIG_FILE);
  if (explicit && !existsSync(path))
    throw new ConfigError(`the config file ${path} does not exist`);
  const file = existsSync(path) ? readFile(path) : {};

  const db = sources.db ?? env.POSTOUT_DB ?? file.db ?? DEFAULT_DB;
  const retry: OutcomePolicy | undefined = file.retry && {
    retryScheduleMs: file.retry.scheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    ...(file.retry.perCode ? { perCode: file.retry.perCode } : {}),
  };

  const verify = file.verify && {
    ...(file.verify.settleMs === undefined ? {} : { settleMs: file.verify.settleMs }),
    ...(file.verify.skewMs === undefined ? {} : { skewMs: file.verify.skewMs }),
  };
  const scheduler = file.scheduler && {
    ...(file.scheduler.leaseMs === undefined ? {} : { leaseMs: file.scheduler.leaseMs }),
    ...(file.scheduler.tickMs === undefined ? {} : { tickMs: file.scheduler.tickMs }),
  };
  const fromEnv = env.MARKETO_BASE_URL || env.MARKETO_CLIENT_ID || env.MARKETO_CLIENT_SECRET;
  if (fromEnv) {
    const missing = ["MARKETO_BASE_URL", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"].filter(
      (k) => !env[k],
    );
    if (missing.length > 0)
      throw new ConfigError(`set ${missing.join(" and ")} too, or none of the MARKETO_* variables`);
    const baseUrl = destinationSchema.shape.baseUrl.safeParse(env.MARKETO_BASE_URL);
    if (!baseUrl.success)
      throw new ConfigError(`MARKETO_BASE_URL is not an http(s) URL: ${env.MARKETO_BASE_URL}`);
    return {
      db,
      retry,
      ...(verify ? { verify } : {}),
      ...(scheduler ? { scheduler } : {}),
      sandbox: false,
      destinations: [
        {
          name: "main",
          baseUrl: baseUrl.data,
          clientId: env.MARKETO_CLIENT_ID,
          clientSecret: env.MARKETO_CLIENT_SECRET,
          callsPer20s: undefined,
          concurrency: undefined,
        },
      ],
    };
  }

  if (file.destinations) {
    const names = new Set<string>();
    const destinations = file.destinations.map((d, i) => {
      if (names.has(d.name))
        throw new ConfigError(`destinations.${i}.name: "${d.name}" appears twice`);
      names.add(d.name);
      const clientId = d.clientId ?? (d.clientIdEnv ? env[d.clientIdEnv] : undefined);
      const clientSecret =
        d.clientSecret ?? (d.clientSecretEnv ? env[d.clientSecretEnv] : undefined);
      if (!d.baseUrl || !clientId || !clientSecret) {
        const missing = [
          !d.baseUrl && "baseUrl",
          !clientId &&
            (d.clientIdEnv ? `the variable ${d.clientIdEnv}` : "clientId or clientIdEnv"),
          !clientSecret &&
            (d.clientSecretEnv
              ? `the variable ${d.clientSecretEnv}`
              : "clientSecret or clientSecretEnv"),
        ].filter(Boolean);
        throw new ConfigError(`destination "${d.name}" lacks ${missing.join(", ")}`);
      }
      return {
        name: d.name,
        baseUrl: d.baseUrl,
        clientId,
        clientSecret,
        callsPer20s: d.callsPer20s,
        concurrency: d.concurrency,
        ...(d.dailyBudget === undefined ? {} : { dailyBudget: d.dailyBudget }),
        ...(d.markerField === undefined ? {} : { markerField: d.markerField }),
      };
    });
    return {
      db,
      retry,
      ...(verify ? { verify } : {}),
      ...(scheduler ? { scheduler } : {}),
      sandbox: false,
      destinations,
    };
  }

  return {
    db,
    retry,
    ...(verify ? { verify } : {}),
    ...(scheduler ? { scheduler } : {}),
    sandbox: true,
    destinations: [SANDBOX_DESTINATION],
  };
}
