import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Command } from "commander";
import { DEMO_CLIENT_RETRY, runDemo } from "../demo.ts";
import { watchCatalog } from "../destinations/catalog-watch.ts";
import { Gateway } from "../gateway.ts";
import { type ApiKey, resolveApiKey } from "../http/api-key.ts";
import { createApp } from "../http/app.ts";
import { watchStoreHealth } from "../store/health-watch.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import { UsageError } from "./io.ts";
import { commandLine, configFrom, mapDirBeside } from "./open.ts";

interface ServeOptions {
  readonly port: string;
  readonly host: string;
  readonly db?: string;
  readonly config?: string;
  readonly demo?: boolean;
}

function portOf(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535)
    throw new UsageError(`--port '${value}' is not a port (0–65535)`);
  return port;
}

/** How to authenticate, said once at start; the key itself only when it was just generated. */
function keyLines(apiKey: ApiKey): string[] {
  const how = "send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'";
  if (apiKey.source === "env") return [`API key: from POSTOUT_API_KEY; ${how}`];
  if (apiKey.source === "file") return [`API key: in ${apiKey.path}; ${how}`];
  return [
    `API key (new, shown this once; kept in ${apiKey.path}, mode 0600):`,
    `  ${apiKey.key}`,
    how,
  ];
}

/**
 * `--demo`: the sample leads, once. A database that holds leads already (a demo loaded on an
 * earlier start, or real work) is left as it is. Resolves to the line to print.
 */
async function demoOnce(gateway: Gateway, store: SqliteStore, mapDir: string): Promise<string> {
  const held = Object.values(await store.countByStatus({})).reduce((a, b) => a + b, 0);
  if (held > 0) return `demo: the database holds ${held} leads already; no sample loaded`;
  const ids = await runDemo(gateway, { mapDir });
  return `demo: ${ids.length} sample leads loaded into the built-in sandbox (delivered, needs fix, retrying)`;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * `postout serve`: the gateway with every destination's dispatcher running and the HTTP API,
 * until SIGINT or SIGTERM; then the server, the dispatchers and the store are closed in order.
 */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the gateway: deliver in the background and answer the HTTP API under /v1")
    .option("--port <port>", "port to listen on (0 for any free port)", "8080")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--db <path>", "the database file (default ./data/postout.db, or POSTOUT_DB)")
    .option("--config <file>", "the config file")
    .option(
      "--demo",
      "on an empty database, load the demo's sample leads first (built-in sandbox only)",
    )
    .action(async (o: ServeOptions) => {
      const port = portOf(o.port);
      const config = configFrom(o);
      // A demo must never post sample leads into a real Marketo.
      if (o.demo && !config.sandbox)
        throw new UsageError(
          "--demo runs only against the built-in sandbox, and a Marketo is configured (MARKETO_* or the config file): drop --demo, or use another --db without that configuration",
        );
      const fromEnv = process.env.POSTOUT_API_KEY?.trim();
      if (fromEnv !== undefined && fromEnv !== "" && fromEnv.length < 16)
        throw new UsageError("POSTOUT_API_KEY must be at least 16 characters");
      const apiKey = resolveApiKey({ dbPath: config.db });
      const store = new SqliteStore(config.db, { lockFor: commandLine() });
      const stopWatch = watchStoreHealth(store, {
        log: (line) => process.stderr.write(`postout serve: ${line}\n`),
      });
      const gateway = await Gateway.open({
        store,
        config,
        ...(o.demo ? { clientOptions: { retry: DEMO_CLIENT_RETRY } } : {}),
      });
      const mapDir = mapDirBeside(config.db);
      let stopCatalog = () => {};
      const server = serve({
        fetch: createApp({ gateway, apiKey: apiKey.key, mapDir }).fetch,
        port,
        hostname: o.host,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("listening", resolve);
          server.once("error", (error: NodeJS.ErrnoException) =>
            reject(
              error.code === "EADDRINUSE" || error.code === "EACCES"
                ? new UsageError(
                    `cannot listen on ${o.host}:${port} (${error.code}): choose another --port`,
                  )
                : error,
            ),
          );
        });
        // Before the dispatchers start: the demo drains its own leads, in order.
        const demoLine = o.demo ? await demoOnce(gateway, store, mapDir) : undefined;
        gateway.startDispatchers();
        // Destinations created, edited or removed by another process (the CLI, another serve).
        stopCatalog = watchCatalog(gateway, {
          log: (line) => process.stderr.write(`postout serve: ${line}\n`),
        });
        const address = server.address() as AddressInfo;
        const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
        const url = `http://${host}:${address.port}`;
        process.stdout.write(
          [
            `postout serve: listening on ${url}`,
            `dashboard: ${url}/ (sign in there with the API key)`,
            ...keyLines(apiKey),
            ...(demoLine ? [demoLine] : []),
            "",
          ].join("\n"),
        );
        const signal = await untilSignal();
        process.stderr.write(`postout serve: ${signal}, stopping…\n`);
      } finally {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ("closeIdleConnections" in server) server.closeIdleConnections();
        });
        stopWatch();
        stopCatalog();
        await gateway.close();
        await store.close();
      }
      process.stderr.write("postout serve: stopped\n");
    });
}
