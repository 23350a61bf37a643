import type { Command } from "commander";
import { SANDBOX_DESTINATION } from "../config.ts";
import { DEMO_CLIENT_RETRY, runDemo } from "../demo.ts";
import { redactedUrl } from "../store/database-url.ts";
import { configFrom, DB_OPTION, mapDirBeside, withGateway } from "./open.ts";
import { reportRows, writeReport } from "./report-command.ts";
import { exitCodeOf, printSummary, summarize } from "./summary.ts";

interface DemoOptions {
  readonly db?: string;
  readonly json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "post a realistic sample into the built-in sandbox: delivered, needs-fix (1006, 1001, 1025, 1005) and retrying leads (so it exits 1, as any run with leads needing attention does)",
    )
    .option("--db <path|url>", DB_OPTION)
    .option("--json", "print the summary for machines")
    .action(async (o: DemoOptions) => {
      // Always the built-in sandbox: a demo must never post sample leads into a real Marketo.
      const config = configFrom(o.db === undefined ? {} : { db: o.db });
      const demoConfig = { ...config, sandbox: true, destinations: [SANDBOX_DESTINATION] };
      await withGateway(
        demoConfig,
        { quiet: o.json === true, clientOptions: { retry: DEMO_CLIENT_RETRY } },
        async (gateway, store) => {
          const ids = await runDemo(gateway, { mapDir: mapDirBeside(config.db) });
          const summary = await summarize(gateway, ids, {
            accepted: ids.length,
            alreadyAccepted: 0,
            rejected: 0,
          });
          printSummary(summary, o.json === true);
          process.exitCode = exitCodeOf(summary, ids.length);
          if (!o.json) {
            process.stdout.write("\n");
            await writeReport(
              reportRows(store, { ids, status: ["needs_fix", "retrying"] }, false),
              "table",
              process.stdout,
              false,
            );
            process.stdout.write(
              `\nthe full post-out log: postout report --db ${redactedUrl(config.db)} --format csv\n`,
            );
          }
        },
      );
    });
}
