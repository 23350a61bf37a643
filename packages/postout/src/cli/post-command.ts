import { basename, resolve } from "node:path";
import { Presets, SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { RejectedItem } from "../intake/items.ts";
import { readLeadFile } from "../intake/read-lead-file.ts";
import { IDENTITY_MAP, loadFieldMap } from "../mapping/field-map.ts";
import { preparer } from "../prepare.ts";
import type { FollowUps, Route } from "../route.ts";
import { deliveryProgress } from "./delivery-progress.ts";
import { UsageError } from "./io.ts";
import { configFrom, DB_OPTION, withGateway } from "./open.ts";
import { exitCodeOf, printSummary, summarize, waitingNote } from "./summary.ts";

export interface PostOptions {
  readonly program?: string;
  readonly source?: string;
  readonly reason?: string;
  readonly programStatus?: string;
  readonly list?: string;
  readonly action?: string;
  readonly lookupField?: string;
  readonly partition?: string;
  readonly customObject?: string;
  readonly customObjectFields?: string;
  readonly customObjectLink?: string;
  readonly activityType?: string;
  readonly activityPrimary?: string;
  readonly activityFields?: string;
  readonly map?: string;
  readonly destination?: string;
  readonly format?: string;
  readonly strict?: boolean;
  readonly json?: boolean;
  readonly db?: string;
  readonly config?: string;
}

const ACTIONS = ["createOnly", "updateOnly", "createOrUpdate", "createDuplicate"] as const;

/** The route a `post` puts its leads on: Push Lead with --program, Sync Leads otherwise. */
const names = (value: string) =>
  value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");

/** The follow-up steps named by the flags: custom object and custom activity. */
function followUpsFromOptions(o: PostOptions): FollowUps {
  if ((o.customObject === undefined) !== (o.customObjectFields === undefined)) {
    throw new UsageError("--custom-object and --custom-object-fields go together");
  }
  if (o.customObjectLink !== undefined && o.customObject === undefined) {
    throw new UsageError("--custom-object-link needs --custom-object");
  }
  if ((o.activityType === undefined) !== (o.activityPrimary === undefined)) {
    throw new UsageError("--activity-type and --activity-primary go together");
  }
  if (o.activityFields !== undefined && o.activityType === undefined) {
    throw new UsageError("--activity-fields needs --activity-type");
  }
  const typeId = Number(o.activityType);
  if (
    o.activityType !== undefined &&
    (!/^\d+$/.test(o.activityType) || !Number.isSafeInteger(typeId))
  ) {
    throw new UsageError(`--activity-type '${o.activityType}' is not an activity type id`);
  }
  return {
    ...(o.customObject === undefined
      ? {}
      : {
          customObject: {
            apiName: o.customObject,
            fields: names(o.customObjectFields ?? ""),
            ...(o.customObjectLink === undefined ? {} : { linkField: o.customObjectLink }),
          },
        }),
    ...(o.activityType === undefined
      ? {}
      : {
          activity: {
            activityTypeId: typeId,
            primaryAttributeField: o.activityPrimary ?? "",
            ...(o.activityFields === undefined ? {} : { attributeFields: names(o.activityFields) }),
          },
        }),
  };
}

export function routeFromOptions(o: PostOptions): Route {
  const common = {
    ...followUpsFromOptions(o),
    ...(o.lookupField === undefined ? {} : { lookupField: o.lookupField }),
    ...(o.partition === undefined ? {} : { partitionName: o.partition }),
    ...(o.list === undefined ? {} : { listName: o.list }),
  };
  if (o.program !== undefined) {
    if (o.action !== undefined)
      throw new UsageError(
        "--action goes with Sync Leads; Push Lead (--program) is always an upsert",
      );
    return {
      endpoint: "pushLeads",
      programName: o.program,
      ...(o.source === undefined ? {} : { source: o.source }),
      ...(o.reason === undefined ? {} : { reason: o.reason }),
      ...(o.programStatus === undefined ? {} : { programStatus: o.programStatus }),
      ...common,
    };
  }
  for (const flag of ["source", "reason", "programStatus"] as const) {
    if (o[flag] !== undefined)
      throw new UsageError(
        `--${flag === "programStatus" ? "program-status" : flag} needs --program`,
      );
  }
  if (o.action !== undefined && !(ACTIONS as readonly string[]).includes(o.action)) {
    throw new UsageError(`--action must be one of ${ACTIONS.join(", ")}`);
  }
  return {
    endpoint: "syncLeads",
    ...(o.action === undefined ? {} : { action: o.action as (typeof ACTIONS)[number] }),
    ...common,
  };
}

/** Reads the whole file once without writing, so a file that breaks halfway writes nothing. */
async function scan(path: string, format: string | undefined) {
  const rejected: RejectedItem[] = [];
  let rows = 0;
  for await (const item of readLeadFile(
    path,
    format === undefined ? {} : { format: format as "csv" },
  )) {
    if (item.kind === "row") rows++;
    else rejected.push(item);
  }
  return { rows, rejected };
}

/** The routing, mapping and configuration flags `post` and `test-integration` share. */
export function registerRouteOptions(command: Command): Command {
  return command
    .option("--program <name>", "Push Lead into this program (otherwise Sync Leads)")
    .option("--source <text>", "Push Lead: the source recorded on the activity")
    .option("--reason <text>", "Push Lead: the reason recorded on the activity")
    .option("--program-status <status>", "Push Lead: the program status to set")
    .option("--list <name>", "also add each delivered lead to this static list")
    .option("--action <action>", `Sync Leads action: ${ACTIONS.join(", ")}`)
    .option("--lookup-field <field>", "the field Marketo deduplicates on (default email)")
    .option("--partition <name>", "the lead partition")
    .option(
      "--custom-object <apiName>",
      "also write a custom object record linked to each lead (e.g. car_c)",
    )
    .option(
      "--custom-object-fields <list>",
      "mapped fields that go to the custom object, comma separated",
    )
    .option(
      "--custom-object-link <field>",
      "the custom object field holding the lead id (default leadId)",
    )
    .option("--activity-type <id>", "also add a custom activity of this type to each lead")
    .option(
      "--activity-primary <field>",
      "the mapped field holding the activity's primary attribute",
    )
    .option(
      "--activity-fields <list>",
      "mapped fields sent as the activity's attributes, comma separated",
    )
    .option(
      "--map <file>",
      "field map (JSON): source columns → Marketo fields, constants, value mappers",
    )
    .option("--destination <name>", "the destination to post to (default: the only one)")
    .option("--db <path|url>", DB_OPTION)
    .option("--config <file>", "the config file (default ./postout.config.json when present)")
    .option("--json", "print for machines");
}

export function registerPost(program: Command): void {
  const command = program
    .command("post")
    .description(
      "post a lead file (CSV, JSONL or a JSON array) into Marketo and wait for the outcome of every lead",
    )
    .argument("<file>", "the lead file")
    .option("--format <format>", "csv, jsonl or json (default: from the extension)")
    .option("--strict", "refuse the whole file when any row cannot be read");
  registerRouteOptions(command);
  command.action(async (file: string, o: PostOptions) => {
    const route = routeFromOptions(o);
    const config = configFrom(o);
    const map = o.map === undefined ? IDENTITY_MAP : await loadFieldMap(o.map);
    const path = resolve(file);
    const { rows, rejected } = await scan(path, o.format);
    const say = (line: string) => {
      if (!o.json) process.stderr.write(`${line}\n`);
    };
    for (const r of rejected.slice(0, 50)) say(`line ${r.line}: ${r.reason}`);
    if (rejected.length > 50) say(`… and ${rejected.length - 50} more rejected rows`);
    if (o.strict && rejected.length > 0) {
      const summary = {
        refused: true,
        rejected: rejected.length,
        lines: rejected.slice(0, 1000).map((r) => r.line),
      };
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stderr.write(
          `postout: --strict: refused the whole file, ${rejected.length} rows cannot be read; nothing was accepted\n`,
        );
      process.exitCode = 1;
      return;
    }

    await withGateway(config, { quiet: o.json === true }, async (gateway) => {
      const destination = gateway.destination(o.destination);
      const prepare = preparer({
        map,
        route,
        schema: (opts) => destination.schema(opts),
        markerField: destination.markerField,
      });
      const mapPath = o.map === undefined ? undefined : resolve(o.map);
      const source = basename(path);
      async function* leads() {
        for await (const item of readLeadFile(
          path,
          o.format === undefined ? {} : { format: o.format as "csv" },
        )) {
          if (item.kind === "row") yield { raw: item.fields, line: item.line };
        }
      }
      // A progress bar for large files, only for a person watching a terminal.
      const bar =
        rows >= 10_000 && process.stderr.isTTY && !o.json
          ? new SingleBar(
              { format: "accepting {bar} {value}/{total} leads", stream: process.stderr },
              Presets.shades_classic,
            )
          : undefined;
      bar?.start(rows, 0);
      const started = Date.now();
      const intake = await gateway.accept(leads(), {
        destination: destination.name,
        route,
        prepare,
        source,
        ...(mapPath === undefined ? {} : { mapPath }),
        ...(bar ? { onChunk: (done: number) => bar.update(done) } : {}),
      });
      bar?.stop();
      say(
        `accepted ${intake.accepted} of ${rows + rejected.length} rows${rejected.length > 0 ? ` (${rejected.length} could not be read: the lines above)` : ""}${intake.duplicates > 0 ? ` (${intake.duplicates} already accepted before)` : ""}; delivering…`,
      );
      const progress =
        intake.accepted >= 1000 && process.stderr.isTTY && !o.json
          ? deliveryProgress(gateway.store, destination.name, intake.accepted)
          : undefined;
      await destination.dispatcher.drainSettled((ms, waiting) =>
        say(
          `${waiting} lead(s) whose call was cut off: looking for them in Marketo in ${Math.ceil(ms / 1000)} s, when Marketo has surely finished those calls…`,
        ),
      );
      await progress?.stop();
      const summary = await summarize(
        gateway,
        intake.ids,
        {
          accepted: intake.accepted,
          alreadyAccepted: intake.duplicates,
          rejected: rejected.length,
        },
        started,
      );
      printSummary(summary, o.json === true);
      const note = await waitingNote(gateway, destination.name, summary);
      if (note) say(note);
      process.exitCode = exitCodeOf(summary, intake.ids.length);
    });
  });
}
