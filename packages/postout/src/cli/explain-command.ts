import { allCodes, type CodeEntry, type Recovery } from "@postout/marketo";
import type { Command } from "commander";
import { type ExplainedItem, explainInput } from "../explain.ts";
import type { OwnCode } from "../own-codes.ts";
import { readStdin, UsageError } from "./io.ts";

const RECOVERY_TEXT: Readonly<Record<Recovery, string>> = {
  reauthenticate: "automatic: Postout fetches a new access token and resends",
  "slow-down": "automatic: Postout waits for the window and lowers its share of the rate",
  "wait-for-quota-reset":
    "automatic: Postout pauses the destination until midnight America/Chicago",
  "retry-with-backoff": "automatic: Postout retries with exponential backoff",
  "split-request": "automatic: Postout splits the request and resends the parts",
  "post-with-method-get": "automatic: Postout resends the read as POST with _method=GET",
  none: "needs a person: Postout marks the lead needs-fix",
};

function quotaText(entry: CodeEntry): string {
  if (entry.counted === false) return "not counted against the daily quota or the rate limit";
  return "counted against the daily quota (the docs are silent; assume it is)";
}

function levelText(entry: CodeEntry): string {
  const level = { http: "HTTP level", response: "response level", record: "record level" }[
    entry.level
  ];
  return entry.common ? `${level} · one of the most common codes` : level;
}

function formatItem(item: ExplainedItem): string {
  const { entry } = item;
  const lines = [`${entry.code}  ${entry.message}  (${levelText(entry)})`];
  if (item.sent !== undefined && item.sent !== entry.message)
    lines.push(`  Marketo said  ${item.sent}`);
  lines.push(`  Meaning       ${item.meaning}`);
  lines.push(`  Recovery      ${RECOVERY_TEXT[entry.recovery]}`);
  lines.push(`  Quota         ${quotaText(entry)}`);
  lines.push(`  Fix           ${item.fix}`);
  return lines.join("\n");
}

function formatOwn(entry: OwnCode): string {
  const origin =
    entry.origin === "before-sending"
      ? "Postout's own check, before sending"
      : "Postout's code for a call without a usable answer";
  return [
    `${entry.code}  (${origin}; not a Marketo code)`,
    `  Meaning       ${entry.meaning}`,
    `  Recovery      ${entry.recovery}`,
    `  Fix           ${entry.fix}`,
  ].join("\n");
}

function itemJson(item: ExplainedItem) {
  const { entry } = item;
  return {
    code: entry.code,
    level: entry.level,
    message: entry.message,
    meaning: item.meaning,
    recovery: entry.recovery,
    fix: item.fix,
    common: entry.common,
    counted: entry.counted,
    ...(item.sent === undefined ? {} : { sent: item.sent, values: item.values }),
  };
}

function listAll(json: boolean): string {
  const entries = allCodes();
  if (json)
    return JSON.stringify(
      entries.map((entry) =>
        itemJson({ entry, sent: undefined, values: {}, meaning: entry.meaning, fix: entry.fix }),
      ),
      null,
      2,
    );
  return entries
    .map(
      (e) =>
        `${e.code.padEnd(5)} ${e.level.padEnd(8)} ${e.recovery.padEnd(20)} ${e.common ? "*" : " "} ${e.message}`,
    )
    .join("\n");
}

interface ExplainOptions {
  readonly json?: boolean;
  readonly all?: boolean;
}

/** `postout explain`: what a Marketo code, message or response means and what to do about it. */
export function registerExplain(program: Command): void {
  program
    .command("explain")
    .description(
      "explain a Marketo code (1006), one of Postout's own (too-long, uncertain …), a message (\"Field 'role' not found\") or a whole response (JSON; '-' or piped stdin)",
    )
    .argument("[input]", "a code, a message, a response JSON, or - for stdin")
    .option("--json", "print for machines")
    .option("--all", "list every documented code")
    .action(async (input: string | undefined, options: ExplainOptions) => {
      if (options.all) {
        if (input !== undefined) throw new UsageError("--all takes no input");
        process.stdout.write(`${listAll(options.json === true)}\n`);
        return;
      }
      const text = input === undefined || input === "-" ? await readStdin() : input;
      if (text === undefined || text.trim() === "") {
        throw new UsageError(
          "explain needs a code, a message or a response (as an argument or on stdin)",
        );
      }
      const result = explainInput(text);
      if (result.kind === "own") {
        process.stdout.write(
          `${options.json ? JSON.stringify({ ...result.entry, marketo: false }, null, 2) : formatOwn(result.entry)}\n`,
        );
        return;
      }
      if (result.kind === "found") {
        const unknownText = result.unknown.map((c) => `${c}  not a documented Marketo code`);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify(
              result.items.length === 1 && result.unknown.length === 0 && /^\d+$/.test(text.trim())
                ? itemJson(result.items[0] as ExplainedItem)
                : { codes: result.items.map(itemJson), unknown: result.unknown },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(
            `${[...result.items.map(formatItem), ...unknownText].join("\n\n")}\n`,
          );
        }
        process.exitCode = result.unknown.length > 0 ? 1 : 0;
        return;
      }
      if (result.kind === "unknown-code") {
        const nearest = result.nearest.map((e) => ({ code: e.code, message: e.message }));
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ error: "unknown_code", code: result.code, nearest }, null, 2)}\n`,
          );
        } else {
          process.stderr.write(
            `${result.code} is not a code Marketo documents.\nNearest known codes:\n${nearest.map((n) => `  ${n.code}  ${n.message}`).join("\n")}\n`,
          );
        }
        process.exitCode = 1;
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ error: "nothing_found" })}\n`);
      } else {
        process.stderr.write(
          "No Marketo code or known Marketo message found in the input.\nTry a code (postout explain 1006), a message, or a whole response JSON.\n",
        );
      }
      process.exitCode = 1;
    });
}
