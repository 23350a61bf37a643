import { resolve } from "node:path";
import type { Command } from "commander";
import { Gateway } from "../gateway.ts";
import { type FieldMap, IDENTITY_MAP, loadFieldMap } from "../mapping/field-map.ts";
import { preparer } from "../prepare.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { LeadFilter, Requeue } from "../store/store.ts";
import { type FilterOptions, filterOptions, isNarrowed, parseFilter } from "./filters.ts";
import { UsageError } from "./io.ts";
import { configFrom } from "./open.ts";
import { exitCodeOf, printSummary, summarize } from "./summary.ts";

interface RepostOptions extends FilterOptions {
  readonly map?: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly db?: string;
  readonly config?: string;
}

/**
 * Maps each lead's raw row again with the current field map (`--map`, else the map file it
 * was posted with, read anew) and queues it; the history of attempts is kept.
 */
async function requeueAll(
  gateway: Gateway,
  filter: LeadFilter,
  mapOverride: string | undefined,
): Promise<number[]> {
  const maps = new Map<string, Promise<FieldMap>>();
  const mapFor = (path: string | undefined): Promise<FieldMap> => {
    if (path === undefined) return Promise.resolve(IDENTITY_MAP);
    let map = maps.get(path);
    if (!map) {
      map = loadFieldMap(path);
      maps.set(path, map);
    }
    return map;
  };
  const ids: number[] = [];
  let batch: Requeue[] = [];
  const flush = async () => {
    if (batch.length > 0) await gateway.store.requeue(batch, Date.now());
    batch = [];
  };
  for await (const lead of gateway.store.iterateLeads(filter, 1000)) {
    if (lead.status === "sending") continue;
    const destination = gateway.destination(lead.destination);
    const mapPath = mapOverride ?? lead.mapPath;
    const prepare = preparer({
      map: await mapFor(mapPath),
      route: lead.route,
      schema: (opts) => destination.schema(opts),
    });
    const prepared = await prepare(lead.raw);
    ids.push(lead.id);
    batch.push({
      id: lead.id,
      route: lead.route,
      input: prepared.input,
      ...(mapPath === undefined ? {} : { mapPath }),
      ...("refused" in prepared ? { refused: prepared.refused } : {}),
    });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return ids;
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
    .option("--db <path>", "the database file (default ./data/postout.db, or POSTOUT_DB)")
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
      const store = new SqliteStore(config.db);
      const gateway = await Gateway.open({
        store,
        config,
        ...(o.json ? { announce: () => {} } : {}),
      });
      try {
        const ids = await requeueAll(
          gateway,
          filter,
          o.map === undefined ? undefined : resolve(o.map),
        );
        if (!o.json) process.stderr.write(`reposting ${ids.length} leads…\n`);
        for (const destination of gateway.destinations) await destination.dispatcher.drain();
        const summary = await summarize(gateway, ids, {
          accepted: ids.length,
          alreadyAccepted: 0,
          rejected: 0,
        });
        printSummary(summary, o.json === true);
        process.exitCode = exitCodeOf(summary, ids.length);
      } finally {
        await gateway.close();
        await store.close();
      }
    });
}
