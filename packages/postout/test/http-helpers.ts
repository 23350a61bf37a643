import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SANDBOX_DESTINATION } from "../src/config.ts";
import { Gateway } from "../src/gateway.ts";
import { createApp } from "../src/http/app.ts";
import type { KeySource } from "../src/secrets/key-source.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

export const API_KEY = "test-key-0123456789abcdef";

/** A gateway on the built-in sandbox (no latency) with a fresh database, and the API over it. */
export async function openApi(
  options: {
    readonly maxBodyBytes?: number;
    readonly dashboardDir?: string;
    readonly now?: () => number;
    /** The key of the catalog's secrets. @default a key file beside the test's database */
    readonly keys?: KeySource;
    /** Where the gateway and the app log. @default nowhere */
    readonly log?: (line: string) => void;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "postout-http-"));
  const store = new SqliteStore(join(dir, "postout.db"));
  const gateway = await Gateway.open({
    store,
    config: {
      db: join(dir, "postout.db"),
      destinations: [SANDBOX_DESTINATION],
      sandbox: true,
      retry: undefined,
    },
    announce: () => {},
    ...(options.keys === undefined ? {} : { keys: options.keys }),
    log: options.log ?? (() => {}),
    sandboxOptions: { latency: false, seed: 11 },
    clientOptions: { retry: { maxAttempts: 1 } },
  });
  const app = createApp({
    gateway,
    apiKey: API_KEY,
    log: options.log ?? (() => {}),
    mapDir: join(dir, "maps"),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const responses: string[] = [];
  /** A request with the API key; every answer's text is kept for the secret scan. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` },
  ) {
    const res = await app.request(path, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    responses.push(text, JSON.stringify([...res.headers]));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: tests read answers by shape
    return { status: res.status, text, json: json as any, headers: res.headers };
  }
  const destination = gateway.destination("sandbox");
  return {
    app,
    gateway,
    store,
    call,
    responses,
    /** The database file. */
    dbPath: join(dir, "postout.db"),
    /** Where the app keeps field maps sent with leads. */
    mapDir: join(dir, "maps"),
    /** Runs the dispatcher until nothing is due (the tests do not start the background loop). */
    drain: () => destination.dispatcher.drain(),
    clientSecret: (gateway.sandbox as NonNullable<typeof gateway.sandbox>).clientSecret,
    async close() {
      await gateway.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SYNC_ROUTE = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
