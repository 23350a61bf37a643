import { resolve } from "node:path";
import type { Command } from "commander";
import type { Gateway } from "../gateway.ts";
import { repostLeads } from "../repost.ts";
import { type FilterOptions, filterOptions, isNarrowed, parseFilter } from "./filters.ts";
import { plural, UsageError } from "./io.ts";
import { configFrom, DB_OPTION, withGateway } from "./open.ts";
import { exitCodeOf, printSummary, summarize } from "./summary.ts";

interface RepostOptions extends FilterOptions {
  readonly map?: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly db?: string;
  readonly config?: string;
}

export function registerRepost(program: Command): void {
  const command = program
    .command("repost")
    .description("send leads again, mapped anew from their raw input: by id, by filter, or --all")
    .argument("[ids...]", "lead ids");
  for (const option of filterOptions()) command.addOption(option);
  command
    .option("--all", "repost every lead (needed when no id or filter is given)")
    .option("--map <file>", "map with this field map instead of the one each lead was posted with")
    .option("--db <path|url>", DB_OPTION)
    .option("--config <file>", "the config file")
    .option("--json", "print the summary for machines")
    .action(async (idArgs: string[], o: RepostOptions) => {
      const filter = parseFilter(o, idArgs);
      if (!isNarrowed(filter) && !o.all) {
        throw new UsageError(
          "name the leads to repost: ids, a filter (--status needs_fix, --code 1006, …), or --all",
        );
      }
      const config = configFrom(o);
      await withGateway(config, { quiet: o.json === true }, async (gateway) => {
        const started = Date.now();
        const ids = await repostLeads(
          gateway,
          filter,
          o.map === undefined ? {} : { mapPath: resolve(o.map) },
        );
        const missing = await missingIds(gateway, filter.ids ?? [], ids);
        if (missing.length > 0) {
          throw new UsageError(
            `no lead ${missing.join(", ")}: \`postout report\` lists the leads and their ids`,
          );
        }
        if (ids.length === 0) {
          process.stderr.write("no lead matches: nothing to repost\n");
          return;
        }
        if (!o.json) process.stderr.write(`reposting ${plural(ids.length, "lead")}…\n`);
        for (const destination of gateway.destinations) await destination.dispatcher.drain();
        const summary = await summarize(
          gateway,
          ids,
          {
            accepted: ids.length,
            alreadyAccepted: 0,
            rejected: 0,
          },
          started,
        );
        printSummary(summary, o.json === true);
        process.exitCode = exitCodeOf(summary, ids.length);
      });
    });
}

/** Ids asked for by number that are not leads (a lead being sent right now is skipped, not missing). */
async function missingIds(
  gateway: Gateway,
  asked: readonly number[],
  reposted: readonly number[],
): Promise<number[]> {
  const found = new Set(reposted);
  const missing: number[] = [];
  for (const id of asked) {
    if (!found.has(id) && (await gateway.store.getLead(id)) === undefined) missing.push(id);
  }
  return missing;
}
