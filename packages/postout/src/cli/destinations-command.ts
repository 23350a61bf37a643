import { existsSync } from "node:fs";
import { type Command, Option } from "commander";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { type ConnectionReport, testConnection } from "../connection-test.ts";
import {
  DestinationChangeSchema,
  DestinationCreateSchema,
  DestinationDraftSchema,
  issuesOf,
} from "../destinations/input.ts";
import {
  type CatalogAccess,
  createDestination,
  editDestination,
  removeDestination,
  storedDestination,
} from "../destinations/manage.ts";
import { settingsOfConfig, settingsOfEntry, settingsView } from "../destinations/settings.ts";
import { openDestinationSecret } from "../destinations/stored.ts";
import { keySourceFor } from "../secrets/key-source.ts";
import { rotateKey } from "../secrets/rotate-key.ts";
import { parseSecretKey } from "../secrets/secret-box.ts";
import { isPostgresUrl } from "../store/database-url.ts";
import { openStore } from "../store/open-store.ts";
import type { Store } from "../store/store.ts";
import { readClientSecret, SECRET_SOURCES, type SecretOptions } from "./client-secret.ts";
import { UsageError } from "./io.ts";
import { DB_OPTION } from "./open.ts";

interface Common {
  readonly db?: string;
  readonly config?: string;
  readonly json?: boolean;
}

interface SettingsOptions extends SecretOptions {
  readonly baseUrl?: string;
  readonly clientId?: string;
  readonly callsPer20s?: string;
  readonly concurrency?: string;
  readonly dailyBudget?: string;
  readonly markerField?: string;
}

/** The flag each field is given with, so an error names what the person typed. */
const FLAGS: Record<string, string> = {
  name: "<name>",
  baseUrl: "--base-url",
  clientId: "--client-id",
  clientSecret: SECRET_SOURCES,
  callsPer20s: "--calls-per-20s",
  concurrency: "--concurrency",
  dailyBudget: "--daily-budget",
  markerField: "--marker-field",
};

/**
 * The configuration without MARKETO_CLIENT_SECRET when it is only the secret for this command
 * (no MARKETO_BASE_URL or MARKETO_CLIENT_ID): alone, it would read as half a destination.
 */
function configOf(o: Common): Config {
  const env = { ...process.env };
  if (!env.MARKETO_BASE_URL && !env.MARKETO_CLIENT_ID) delete env.MARKETO_CLIENT_SECRET;
  try {
    return loadConfig({ configFile: o.config, db: o.db, env });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs with the catalog of the configured database; the store closes whatever happens. */
async function withCatalog<T>(
  o: Common,
  run: (access: CatalogAccess, config: Config, store: Store) => Promise<T>,
): Promise<T> {
  const config = configOf(o);
  // No process lock: editing the catalog does not dispatch, and `serve` on the same file sees
  // the change within a second. A postgres:// URL is the shared database of every serve on it.
  const store = await openStore(config.db);
  try {
    return await run(
      {
        catalog: store,
        keys: keySourceFor({ db: config.db }),
        configNames: new Set(config.destinations.map((d) => d.name)),
        now: Date.now,
      },
      config,
      store,
    );
  } finally {
    await store.close();
  }
}

/** A number flag; "none" clears it (edit), anything not a number stays for zod to name. */
function numberOf(value: string | undefined, clearable: boolean): number | null | undefined {
  if (value === undefined) return undefined;
  if (clearable && value === "none") return null;
  return /^-?\d+$/.test(value.trim()) ? Number(value) : (value as unknown as number);
}

function parsed<T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: import("zod").ZodError };
  },
  input: unknown,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new UsageError(
    issuesOf(result.error)
      .map((i) => `${i.path}${FLAGS[i.path] ? ` (${FLAGS[i.path]})` : ""}: ${i.message}`)
      .join("; "),
  );
}

function settingsInput(o: SettingsOptions, clearable: boolean): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (o.baseUrl !== undefined) input.baseUrl = o.baseUrl;
  if (o.clientId !== undefined) input.clientId = o.clientId;
  for (const key of ["callsPer20s", "concurrency", "dailyBudget"] as const) {
    const value = numberOf(o[key], clearable);
    if (value !== undefined) input[key] = value;
  }
  if (o.markerField !== undefined)
    input.markerField = clearable && o.markerField === "none" ? null : o.markerField;
  return input;
}

function settingsFlags(command: Command, edit: boolean): Command {
  const clear = edit ? " ('none' clears it)" : "";
  return command
    .option("--base-url <url>", "the REST API endpoint, e.g. https://123-ABC-456.mktorest.com")
    .option("--client-id <id>", "the custom service's client id")
    .option("--client-secret-file <file>", "read the client secret from this file (first line)")
    .option("--client-secret-stdin", "read the client secret from stdin (first line)")
    .option("--calls-per-20s <n>", `Postout's share of the 100 calls per 20 s${clear}`)
    .option("--concurrency <n>", `Postout's share of the 10 concurrent calls${clear}`)
    .option("--daily-budget <n>", `calls a day Postout may make${clear}`)
    .option("--marker-field <field>", `the lead field creates carry Postout's id in${clear}`);
}

function common(command: Command): Command {
  return command
    .option("--db <path|url>", DB_OPTION)
    .option("--config <file>", "the config file")
    .option("--json", "print JSON");
}

type View = ReturnType<typeof settingsView> & { readonly name: string };

function printList(views: readonly View[]): void {
  const rows = views.map((v) => [
    v.name,
    v.source,
    v.baseUrl ?? "(built-in sandbox)",
    v.clientId ?? "",
    `${v.limits.callsPer20s ?? 100}/20s, ${v.limits.concurrency ?? 10} at once`,
    v.dailyBudget === null ? "-" : String(v.dailyBudget),
  ]);
  const head = ["NAME", "SOURCE", "BASE URL", "CLIENT ID", "LIMITS", "DAILY BUDGET"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const r of [head, ...rows])
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
}

function printReport(report: ConnectionReport, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else
    process.stdout.write(
      report.ok ? `ok: ${report.message}\n` : `${report.problem}: ${report.message}\n`,
    );
  process.exitCode = report.ok ? 0 : 1;
}

/**
 * `postout destinations list|add|edit|test|remove|rotate-key`: the Marketo instances Postout
 * posts to, created at runtime beside those of the config file. A client secret is read from a
 * file, stdin or MARKETO_CLIENT_SECRET, sealed at once, and never printed.
 */
export function registerDestinations(program: Command): void {
  const destinations = program
    .command("destinations")
    .description("connect, change, test and remove Marketo instances while Postout runs");

  common(destinations.command("list"))
    .description("every destination: from the config file or environment, and created at runtime")
    .action(async (o: Common) => {
      const config = configOf(o);
      const views: View[] = config.destinations.map((d) => ({
        name: d.name,
        ...settingsView(settingsOfConfig(d)),
      }));
      // A SQLite file that does not exist yet holds no catalog: listing must not create it.
      if (isPostgresUrl(config.db) || existsSync(config.db)) {
        await withCatalog(o, async (access) => {
          for (const e of await access.catalog.listCatalog())
            views.push({ name: e.name, ...settingsView(settingsOfEntry(e)) });
        });
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ destinations: views }, null, 2)}\n`);
      else printList(views);
    });

  settingsFlags(common(destinations.command("add")), false)
    .argument("<name>", "the destination's name (letters, digits, '_', '.', '-')")
    .option("--test", "test the connection first, and add it only when it works")
    .description(`connect a Marketo instance; the client secret from ${SECRET_SOURCES}`)
    .action(async (name: string, o: Common & SettingsOptions & { readonly test?: boolean }) => {
      const secret = await readClientSecret(o, process.env);
      const input = parsed(DestinationCreateSchema, {
        name,
        ...settingsInput(o, false),
        ...(secret === undefined ? {} : { clientSecret: secret }),
      });
      if (secret === undefined) {
        throw new UsageError(
          `give the client secret with ${SECRET_SOURCES}; it is never a plain flag value, so it stays out of shell history`,
        );
      }
      const tested = o.test ? await testConnection(input) : undefined;
      if (tested && !tested.ok) {
        printReport(tested, o.json);
        return;
      }
      await withCatalog(o, async (access) => {
        const { entry, resumed } = await createDestination(access, input);
        const view = {
          name: entry.name,
          ...settingsView(settingsOfEntry(entry)),
          resumed,
          ...(tested ? { test: tested } : {}),
        };
        if (o.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else {
          if (tested) process.stdout.write(`ok: ${tested.message}\n`);
          process.stdout.write(
            `added ${entry.name} (${entry.baseUrl}); a running 'postout serve' starts sending to it within a second${
              resumed > 0 ? `; ${resumed} lead(s) held since its removal are due again` : ""
            }\n`,
          );
        }
      });
    });

  settingsFlags(common(destinations.command("edit")), true)
    .argument("<name>", "the destination to change")
    .description(
      "change a destination created at runtime; the secret is kept unless a new one is given",
    )
    .action(async (name: string, o: Common & SettingsOptions) => {
      // Only an explicit flag replaces the secret: a variable left in the shell must not.
      const secret = await readClientSecret(o, undefined);
      const input = parsed(DestinationChangeSchema, {
        ...settingsInput(o, true),
        ...(secret === undefined ? {} : { clientSecret: secret }),
      });
      if (Object.keys(input).length === 0)
        throw new UsageError("nothing to change: give at least one setting");
      await withCatalog(o, async (access) => {
        const entry = await editDestination(access, name, input);
        const view = { name: entry.name, ...settingsView(settingsOfEntry(entry)) };
        if (o.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else
          process.stdout.write(
            `changed ${entry.name}${secret === undefined ? "" : " (new client secret)"}; a running 'postout serve' uses it within a second\n`,
          );
      });
    });

  settingsFlags(common(destinations.command("test")), false)
    .argument("[name]", "a saved destination; without it, test the settings given as flags")
    .description(
      "get a token and read Describe Lead; says what is wrong (bad credentials, access denied, unreachable, not a Marketo URL)",
    )
    .action(async (name: string | undefined, o: Common & SettingsOptions) => {
      if (name === undefined) {
        const secret = await readClientSecret(o, process.env);
        const draft = parsed(DestinationDraftSchema, {
          ...settingsInput(o, false),
          ...(secret === undefined ? {} : { clientSecret: secret }),
        });
        printReport(await testConnection(draft), o.json);
        return;
      }
      const credentials = await withCatalog(o, async (access, config) => {
        const configured = config.destinations.find((d) => d.name === name);
        if (configured) {
          if (!configured.baseUrl || !configured.clientId || !configured.clientSecret)
            throw new UsageError(`"${name}" is the built-in sandbox: nothing to test`);
          return {
            baseUrl: configured.baseUrl,
            clientId: configured.clientId,
            clientSecret: configured.clientSecret,
          };
        }
        const entry = await storedDestination(access, name);
        return {
          baseUrl: entry.baseUrl,
          clientId: entry.clientId,
          clientSecret: openDestinationSecret(entry.name, entry.sealedSecret, access.keys),
        };
      });
      printReport(await testConnection(credentials), o.json);
    });

  common(destinations.command("remove"))
    .argument("<name>", "the destination to remove")
    .addOption(
      new Option("--waiting <what>", "with leads still waiting: refuse, or keep them paused")
        .choices(["refuse", "pause"])
        .default("refuse"),
    )
    .description(
      "remove a destination created at runtime; leads still waiting are never dropped (refused, or kept paused)",
    )
    .action(async (name: string, o: Common & { readonly waiting: "refuse" | "pause" }) => {
      await withCatalog(o, async (access) => {
        const held = await removeDestination(access, name, o.waiting);
        if (o.json) process.stdout.write(`${JSON.stringify({ removed: name, held })}\n`);
        else
          process.stdout.write(
            `removed ${name}${held > 0 ? `; ${held} lead(s) kept paused until a destination named ${name} is created again` : ""}\n`,
          );
      });
    });

  common(destinations.command("rotate-key"))
    .option(
      "--new-key-env <name>",
      "with POSTOUT_SECRET_KEY: the variable holding the new key (base64 of 32 bytes)",
    )
    .description("re-seal every stored client secret under a new key, in one transaction")
    .action(async (o: Common & { readonly newKeyEnv?: string }) => {
      await withCatalog(o, async (access) => {
        let newKey: ReturnType<typeof parseSecretKey> | undefined;
        if (o.newKeyEnv !== undefined) {
          if (access.keys.kind !== "env")
            throw new UsageError(
              "--new-key-env is for a key in POSTOUT_SECRET_KEY; with a key file, rotate-key writes the new key itself",
            );
          const value = process.env[o.newKeyEnv];
          if (!value) throw new UsageError(`the variable ${o.newKeyEnv} is not set`);
          newKey = parseSecretKey(value, o.newKeyEnv);
        }
        const rotation = await rotateKey(access.catalog, access.keys, {
          now: Date.now(),
          ...(newKey ? { newKey } : {}),
        });
        const next =
          access.keys.kind === "env"
            ? `set POSTOUT_SECRET_KEY to the value of ${o.newKeyEnv} in every process on this database and restart them: the old key no longer opens any secret`
            : `${access.keys.where} holds the new key; running processes read it at their next change`;
        if (o.json)
          process.stdout.write(
            `${JSON.stringify({ ...rotation, keyFrom: access.keys.kind, next }, null, 2)}\n`,
          );
        else
          process.stdout.write(
            `re-sealed ${rotation.resealed} client secret(s): key ${rotation.from ?? "(none)"} → ${rotation.to}\n${next}\n`,
          );
      });
    });

  for (const command of destinations.commands) command.exitOverride();
}
