import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.ts";
import { isDestinationError } from "../destinations/errors.ts";
import { isIntakeError } from "../intake/errors.ts";
import { FieldMapError } from "../mapping/field-map.ts";
import { isStoreError } from "../store/errors.ts";
import { registerDemo } from "./demo-command.ts";
import { registerDestinations } from "./destinations-command.ts";
import { registerExplain } from "./explain-command.ts";
import { UsageError } from "./io.ts";
import { registerPost } from "./post-command.ts";
import { registerReport } from "./report-command.ts";
import { registerRepost } from "./repost-command.ts";
import { registerSandbox } from "./sandbox-command.ts";
import { registerServe } from "./serve-command.ts";
import { registerTestIntegration } from "./test-integration-command.ts";

/** Exit codes every command keeps: 0 done, 1 done but something needs attention, 2 bad usage or config. */
export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command("postout")
    .description("Post leads into Marketo and lose none.")
    .version(packageVersion(), "-V, --version", "print the version of postout")
    .addHelpText("after", HELP_AFTER)
    .showHelpAfterError()
    .exitOverride();
  registerExplain(program);
  registerPost(program);
  registerReport(program);
  registerRepost(program);
  registerSandbox(program);
  registerDemo(program);
  registerTestIntegration(program);
  registerServe(program);
  registerDestinations(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

const HELP_AFTER = `
Exit codes (every command):
  0  done: every lead delivered (or nothing to do)
  1  done, but some leads need attention (needs_fix, retrying, paused) or the run failed
  2  bad usage or configuration: nothing was posted

A field map (--map FILE) is JSON:
  {
    "fields":    { "Email Address": "email", "Company": "company" },
    "constants": { "leadSource": "Webinar" },
    "values":    { "state": { "map": { "CA": "California" }, "default": "Other",
                              "caseInsensitive": true } },
    "unmapped":  "drop"
  }
  fields: source column → Marketo field (REST name); constants: set on every lead;
  values: a list value mapper per Marketo field; unmapped: keep | drop | reject
  (a column not named in fields; default keep without a map, drop with one).

Commands that print results take --json for machines (serve logs lines for people);
postout <command> --help lists a command's options.`;

function packageVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

/** Runs the CLI; resolves to the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the problem; --help and --version end with code 0.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (isDestinationError(error) && error.code === "waiting") {
      // Not a mistake: leads are waiting, and the message names the two choices.
      process.stderr.write(`postout: ${error.message}\n`);
      return 1;
    }
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof FieldMapError ||
      isDestinationError(error) ||
      isIntakeError(error) ||
      // Another process dispatches from the database, or the server refused the login (no such
      // role, database or password): a mistake of the configuration, not a failure.
      (isStoreError(error) && (error.code === "locked" || error.code === "refused"))
    ) {
      process.stderr.write(`postout: ${error.message}\n`);
      return EXIT_USAGE;
    }
    // Anything else (a database that cannot be opened, a disk that is full …): the message,
    // not a stack trace; leads accepted before it are on disk and a rerun resumes them.
    process.stderr.write(`postout: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
