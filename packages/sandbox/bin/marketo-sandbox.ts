#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { type LatencyOptions, type SandboxOptions, startSandbox } from "../src/index.ts";
import { defaultLatency } from "../src/options.ts";

function integer(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected a number ≥ 0");
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("expected a number > 0");
  return n;
}

const latencyKinds = Object.keys(defaultLatency);

/** `kind=ms`, e.g. `write=300`: one entry of the per-endpoint latency. */
function latencyEntry(
  value: string,
  previous: Partial<LatencyOptions> = {},
): Partial<LatencyOptions> {
  const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(value);
  if (m === null || !latencyKinds.includes(m[1] as string))
    throw new InvalidArgumentError(`expected kind=ms with kind one of ${latencyKinds.join(", ")}`);
  return { ...previous, [m[1] as string]: Number(m[2]) };
}

const program = new Command()
  // `postout sandbox` runs this file and says so in its help.
  .name(process.env.MARKETO_SANDBOX_COMMAND ?? "marketo-sandbox")
  .description("A faithful Marketo REST API simulator with every documented limit and fault.")
  .option("--port <port>", "TCP port (0 picks a free one)", integer, 0)
  .option("--host <host>", "interface to listen on", "127.0.0.1")
  .option("--client-id <id>", "client id (default: random)")
  .option("--client-secret <secret>", "client secret (default: random)")
  .option("--json", "print the ready line as JSON")
  .option("--rate-calls <n>", "calls allowed in the rate window (606)", integer)
  .option("--rate-window-ms <ms>", "rate window length in ms", positiveNumber)
  .option("--no-rate-limit", "turn the rate limit off")
  .option("--concurrency <n>", "calls allowed in flight (615)", integer)
  .option("--no-concurrency-limit", "turn the concurrency limit off")
  .option("--daily-quota <n>", "counted calls per Chicago day (607)", integer)
  .option("--no-daily-quota-limit", "turn the daily quota off")
  .option("--max-body-bytes <n>", "413 past this body size", integer)
  .option("--max-bulk-body-bytes <n>", "413 past this bulk body size", integer)
  .option("--max-uri-bytes <n>", "414 past this URI size", integer)
  .option("--token-lifetime <seconds>", "access token lifetime", positiveNumber)
  .option("--no-latency", "answer without simulated latency")
  .option(
    "--latency <kind=ms>",
    `simulated latency of one kind of endpoint (${latencyKinds.join(", ")}); repeatable`,
    latencyEntry,
  )
  .option("--bulk-startup-ms <ms>", "bulk import: time from Importing to the first row", integer)
  .option("--bulk-per-row-ms <ms>", "bulk import: time per row", nonNegativeNumber)
  .option("--call-log-size <n>", "entries kept in the call log", integer)
  .option("--time-scale <factor>", "multiply every duration (0.01 = 100× faster)", positiveNumber)
  .option("--seed <n>", "seed for faults by rate", integer)
  .option("--clock <iso>", "start time of the sandbox clock (ISO 8601)")
  .option("--freeze-clock", "start with the clock frozen (moved only via /_sandbox/clock)")
  .option("--fault <json...>", 'initial fault spec(s), e.g. \'{"code":"606","rate":0.1}\'')
  .option("--accept-access-token-query", "accept the removed access_token query parameter")
  .option(
    "--instances <n>",
    "also host N Marketo instances under /i/0000 … with their own credentials and state",
    integer,
  )
  .showHelpAfterError();

program.exitOverride((error) => {
  process.exit(error.exitCode === 0 ? 0 : 2);
});
program.parse();
const flags = program.opts<Record<string, unknown>>();

function buildOptions(): SandboxOptions {
  const options: SandboxOptions = { port: flags.port as number, host: flags.host as string };
  if (flags.clientId !== undefined) options.clientId = String(flags.clientId);
  if (flags.clientSecret !== undefined) options.clientSecret = String(flags.clientSecret);
  if (flags.rateLimit === false) options.rateLimit = false;
  else if (flags.rateCalls !== undefined || flags.rateWindowMs !== undefined) {
    options.rateLimit = {
      calls: (flags.rateCalls as number | undefined) ?? 100,
      windowMs: (flags.rateWindowMs as number | undefined) ?? 20_000,
    };
  }
  if (flags.concurrencyLimit === false) options.concurrency = false;
  else if (flags.concurrency !== undefined) options.concurrency = flags.concurrency as number;
  if (flags.dailyQuotaLimit === false) options.dailyQuota = false;
  else if (flags.dailyQuota !== undefined) options.dailyQuota = flags.dailyQuota as number;
  if (flags.maxBodyBytes !== undefined) options.maxBodyBytes = flags.maxBodyBytes as number;
  if (flags.maxBulkBodyBytes !== undefined)
    options.maxBulkBodyBytes = flags.maxBulkBodyBytes as number;
  if (flags.maxUriBytes !== undefined) options.maxUriBytes = flags.maxUriBytes as number;
  if (flags.tokenLifetime !== undefined)
    options.tokenLifetimeSeconds = flags.tokenLifetime as number;
  if (flags.latency === false) options.latency = false;
  else if (typeof flags.latency === "object" && flags.latency !== null)
    options.latency = flags.latency as Partial<LatencyOptions>;
  if (flags.bulkStartupMs !== undefined || flags.bulkPerRowMs !== undefined) {
    options.bulkPace = {};
    if (flags.bulkStartupMs !== undefined)
      options.bulkPace.startupMs = flags.bulkStartupMs as number;
    if (flags.bulkPerRowMs !== undefined) options.bulkPace.perRowMs = flags.bulkPerRowMs as number;
  }
  if (flags.callLogSize !== undefined) options.callLogSize = flags.callLogSize as number;
  if (flags.timeScale !== undefined) options.timeScale = flags.timeScale as number;
  if (flags.seed !== undefined) options.seed = flags.seed as number;
  if (flags.clock !== undefined) {
    const at = Date.parse(String(flags.clock));
    if (Number.isNaN(at)) throw new TypeError(`--clock: not an ISO date: ${String(flags.clock)}`);
    options.clock = at;
  }
  if (flags.freezeClock === true) options.freezeClock = true;
  if (flags.fault !== undefined) {
    options.faults = (flags.fault as string[]).map((text) => {
      try {
        return JSON.parse(text);
      } catch {
        throw new TypeError(`--fault: not JSON: ${text}`);
      }
    });
  }
  if (flags.acceptAccessTokenQuery === true) options.acceptAccessTokenQuery = true;
  if (flags.instances !== undefined) options.instances = flags.instances as number;
  return options;
}

try {
  const sb = await startSandbox(buildOptions());
  const root = { url: sb.url, clientId: sb.clientId, clientSecret: sb.clientSecret };
  const instances = sb.instances.map(({ url, clientId, clientSecret }) => ({
    url,
    clientId,
    clientSecret,
  }));
  const lines =
    flags.json === true
      ? [JSON.stringify(instances.length === 0 ? root : { ...root, instances })]
      : [
          `Marketo sandbox on ${sb.url}  client id: ${sb.clientId}  client secret: ${sb.clientSecret}`,
          ...(instances.length === 0
            ? []
            : [
                `${instances.length} instances at ${instances[0]?.url} … ${instances.at(-1)?.url}; their credentials: GET ${sb.url}/_sandbox/instances`,
              ]),
        ];
  process.stdout.write(`${lines.join("\n")}\n`);
  const stop = (): void => {
    sb.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  process.stderr.write(
    `marketo-sandbox: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(2);
}
