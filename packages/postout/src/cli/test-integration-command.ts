import { resolve } from "node:path";
import type { Command } from "commander";
import { readLeadFile } from "../intake/read-lead-file.ts";
import { IDENTITY_MAP, loadFieldMap } from "../mapping/field-map.ts";
import { testIntegration } from "../test-integration.ts";
import { UsageError } from "./io.ts";
import { configFrom, withGateway } from "./open.ts";
import { type PostOptions, registerRouteOptions, routeFromOptions } from "./post-command.ts";

interface TestOptions extends PostOptions {
  readonly lead?: string;
  readonly file?: string;
}

async function oneLead(o: TestOptions): Promise<Record<string, unknown>> {
  if ((o.lead === undefined) === (o.file === undefined)) {
    throw new UsageError(
      "give the test lead with --lead '{\"email\":…}' or --file FILE (its first row)",
    );
  }
  if (o.lead !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(o.lead);
    } catch (error) {
      throw new UsageError(`--lead is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError("--lead must be a JSON object of source fields");
    }
    return value as Record<string, unknown>;
  }
  for await (const item of readLeadFile(resolve(o.file as string))) {
    if (item.kind === "row") return item.fields;
  }
  throw new UsageError(`${o.file} has no readable lead row`);
}

/**
 * `postout test-integration`: one lead through mapping, preflight and routing to Marketo, shown
 * as seed 003's Test Integration modal shows it — the Request (routing section, then input) and
 * the Response — and kept in the log as a test.
 */
export function registerTestIntegration(program: Command): void {
  const command = program
    .command("test-integration")
    .description(
      "send one test lead through mapping and routing, and show the Request and the Response",
    )
    .option("--lead <json>", "the test lead as a JSON object of source fields")
    .option("--file <file>", "take the first row of this lead file as the test lead");
  registerRouteOptions(command);
  command.action(async (o: TestOptions) => {
    const route = routeFromOptions(o);
    const raw = await oneLead(o);
    const config = configFrom(o);
    const map = o.map === undefined ? IDENTITY_MAP : await loadFieldMap(o.map);
    await withGateway(config, { quiet: o.json === true }, async (gateway) => {
      const result = await testIntegration(gateway, {
        raw,
        route,
        map,
        destination: o.destination,
      });
      const { endpoint: _endpoint, ...shown } = result;
      if (o.json) {
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      } else {
        process.stdout.write(
          [
            `Request  (${result.endpoint ?? "not sent"})`,
            JSON.stringify(shown.request, null, 2),
            "Response",
            JSON.stringify(shown.response, null, 2),
            `ResponseStatusCode  ${shown.responseStatusCode}`,
            `ResponseReason      ${shown.responseReason ?? ""}`,
            ...(shown.fix ? [`Fix                 ${shown.fix}`] : []),
            "",
          ].join("\n"),
        );
      }
      process.exitCode = result.status === "test" ? 0 : 1;
    });
  });
}
