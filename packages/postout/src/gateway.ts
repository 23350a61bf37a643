import { hash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  type GateStore,
  type LeadSchema,
  MarketoClient,
  type MarketoClientOptions,
  type MarketoEvent,
  MemoryGateStore,
  type ThrottleCause,
} from "@postout/marketo";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { type Config, ConfigError, type DestinationConfig } from "./config.ts";
import { UnknownDestinationError } from "./destinations/errors.ts";
import {
  type DestinationSettings,
  type DestinationSource,
  settingsOfConfig,
  settingsOfEntry,
} from "./destinations/settings.ts";
import { configOfEntry, sameConfig } from "./destinations/stored.ts";
import { Dispatcher } from "./dispatcher.ts";
import { UNTIL_RESUMED } from "./outcome.ts";
import type { Route } from "./route.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import { type KeySource, keySourceFor } from "./secrets/key-source.ts";
import type { LeadFilter, LeadStatus, NewLead, RefusedAtIntake, Store } from "./store/store.ts";
import { StoreWrites } from "./store-writes.ts";

export { UnknownDestinationError };

/** One Marketo instance as the gateway runs it: its client (token, gate), dispatcher and schema cache. */
export interface Destination {
  readonly name: string;
  readonly client: MarketoClient;
  readonly dispatcher: Dispatcher;
  /** REST calls this process made to the destination, by answer code ("200" for success). */
  readonly calls: Map<string, number>;
  /**
   * 606 and 615 answers since this process started, by code and by whose calls filled the
   * instance: `self` (this gateway's alone reach Marketo's limit) or `foreign` (other apps').
   */
  readonly throttled: ReadonlyMap<"606" | "615", Record<ThrottleCause, number>>;
  /** The lead field creates carry Postout's id in (DestinationConfig.markerField), if any. */
  readonly markerField: string | undefined;
  /** The describe schema, fetched once and again after a 1006 (a field may have been created since). */
  schema(options?: { readonly refresh?: boolean }): Promise<LeadSchema>;
  /** Where it is defined: the config file or environment, or the catalog (API, CLI). */
  readonly source: DestinationSource;
  /** Its settings, the client secret left out. */
  readonly settings: DestinationSettings;
}

/** What {@link Gateway.syncDestinations} changed, by destination name. */
export interface CatalogSync {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** What a person's mapping makes of one source row: the Marketo input, or why it cannot be sent. */
export type Prepared =
  | { readonly input: Readonly<Record<string, unknown>> }
  | { readonly refused: RefusedAtIntake; readonly input?: Readonly<Record<string, unknown>> };

export interface GatewayOptions {
  readonly store: Store;
  readonly config: Config;
  /** Where the built-in sandbox is announced. @default process.stderr */
  readonly announce?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** Client options for every destination (e.g. fewer retries for a demo). */
  readonly clientOptions?: Partial<
    Omit<MarketoClientOptions, "baseUrl" | "clientId" | "clientSecret">
  >;
  /** Options for the built-in sandbox when no Marketo is configured. */
  readonly sandboxOptions?: Parameters<typeof startSandbox>[0];
  /**
   * The scheduler's timing: destination lease, tick, linger (see SchedulerOptions), over the
   * config file's `scheduler`.
   * @default config.scheduler, then SchedulerOptions' defaults (lease 15 s, tick 250 ms, linger 50 ms)
   */
  readonly scheduler?: Pick<SchedulerOptions, "leaseMs" | "tickMs" | "lingerMs" | "onError">;
  /**
   * The key that opens the catalog's sealed client secrets.
   * @default keySourceFor({ db: config.db }): POSTOUT_SECRET_KEY, or the key file beside the database
   */
  readonly keys?: KeySource;
  /** Where catalog problems are said (never with a secret). @default process.stderr */
  readonly log?: (line: string) => void;
}

const PRIMARY_ENDPOINTS = new Set(["/rest/v1/leads.json", "/rest/v1/leads/push.json"]);

/**
 * A stable key for one source row on one route: posting the same row again is recognised. A
 * test lead's key has its own namespace (`test:` first), so a test never stands for the real
 * lead posted after it, nor the real lead for a test.
 */
export function intakeKey(
  route: Route,
  raw: Readonly<Record<string, unknown>>,
  options: { readonly test?: boolean } = {},
): string {
  return keyOf(JSON.stringify(route), raw, options.test === true);
}

/** intakeKey with the route already written out (once per intake, not once per lead). */
function keyOf(routeJson: string, raw: Readonly<Record<string, unknown>>, test: boolean): string {
  const digest = hash("sha256", `${routeJson}\u0000${JSON.stringify(raw)}`).slice(0, 40);
  return test ? `test:${digest}` : digest;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The running gateway: destinations with their clients and dispatchers over one store.
 * Starts the built-in sandbox when no Marketo is configured.
 */
export class Gateway {
  readonly store: Store;
  readonly worker: string;
  readonly sandbox: Sandbox | undefined;
  readonly #destinations: Map<string, Destination>;
  readonly #now: () => number;
  /** Sends to the destinations this process holds the lease of; started by {@link start}. */
  readonly scheduler: Scheduler;
  readonly #options: GatewayOptions;
  readonly #keys: KeySource;
  readonly #log: (line: string) => void;
  /** The catalog's destinations as running, their secrets opened: what a sync compares with. */
  readonly #fromCatalog = new Map<string, DestinationConfig>();
  /** Each catalog destination's sealed secret as last opened, and the secret (configOfEntry). */
  readonly #opened = new Map<string, { readonly sealed: string; readonly secret: string }>();
  /** The catalog version last read; -1 before the first read. */
  #catalogVersion = -1;
  /** Syncs one after another: two at once would build a destination twice. */
  #syncing: Promise<unknown> = Promise.resolve();
  /** Problems already said, so a lasting one is said once. */
  readonly #said = new Set<string>();
  /**
   * Each catalog destination's gate state (window, in flight, quota used today), kept across
   * rebuilds on the same base URL: an edited destination's new client still knows the calls
   * its old one made, so it cannot overrun the instance's limits (a self-caused 606).
   */
  readonly #gateStores = new Map<string, { readonly baseUrl: string; readonly store: GateStore }>();
  /** The process's intake and delivery writes, each kind written together (group commit). */
  readonly #writes: StoreWrites;

  private constructor(
    store: Store,
    writes: StoreWrites,
    destinations: Map<string, Destination>,
    sandbox: Sandbox | undefined,
    worker: string,
    now: () => number,
    options: GatewayOptions,
  ) {
    this.store = store;
    this.#writes = writes;
    this.#destinations = destinations;
    this.sandbox = sandbox;
    this.worker = worker;
    this.#now = now;
    this.#options = options;
    this.#keys = options.keys ?? keySourceFor({ db: options.config.db });
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.scheduler = new Scheduler({
      // The config file's timing, then the caller's.
      ...options.config.scheduler,
      ...options.scheduler,
      store,
      worker,
      now,
      destinations: () => [...destinations.keys()],
      dispatcher: (name) => destinations.get(name)?.dispatcher,
    });
  }

  /** Sends in the background: the scheduler takes its share of destination leases and runs their rounds. */
  start(): void {
    this.scheduler.start();
  }

  static async open(options: GatewayOptions): Promise<Gateway> {
    const now = options.now ?? Date.now;
    const worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    let sandbox: Sandbox | undefined;
    if (options.config.sandbox) {
      sandbox = await startSandbox(options.sandboxOptions ?? {});
      (options.announce ?? ((line) => process.stderr.write(`${line}\n`)))(
        `postout: no Marketo configured (MARKETO_BASE_URL, MARKETO_CLIENT_ID, MARKETO_CLIENT_SECRET or postout.config.json): posting to the built-in SANDBOX at ${sandbox.url}. Nothing reaches a real Marketo. The sandbox starts empty each time Postout starts, so its lead ids repeat across runs and a lead posted again is created again, not updated.`,
      );
    }
    const destinations = new Map<string, Destination>();
    const writes = new StoreWrites(options.store);
    for (const config of options.config.destinations) {
      destinations.set(config.name, {
        ...Gateway.#destination(config, options, writes, sandbox, worker, now),
        source: "config",
        settings: {
          ...settingsOfConfig(config),
          baseUrl: config.baseUrl ?? sandbox?.url,
          clientId: config.clientId ?? sandbox?.clientId,
        },
      });
    }
    const gateway = new Gateway(options.store, writes, destinations, sandbox, worker, now, options);
    try {
      await gateway.#sync(true);
    } catch (error) {
      await sandbox?.close();
      throw error;
    }
    await gateway.recover();
    // A pause for bad credentials or access denied (401, 603) lasts until a person acts.
    // Starting the gateway again, typically with corrected credentials, is that act: the first
    // call tells whether the fix worked, and pauses the destination again if it did not.
    for (const { name } of destinations.values()) {
      if ((await options.store.getDestination(name))?.pausedUntil === UNTIL_RESUMED) {
        await gateway.resume(name);
      }
    }
    return gateway;
  }

  static #destination(
    config: DestinationConfig,
    options: GatewayOptions,
    writes: StoreWrites,
    sandbox: Sandbox | undefined,
    worker: string,
    now: () => number,
    gateStore?: GateStore,
  ): Omit<Destination, "source" | "settings"> {
    const calls = new Map<string, number>();
    const throttled = new Map<"606" | "615", Record<ThrottleCause, number>>([
      ["606", { self: 0, foreign: 0 }],
      ["615", { self: 0, foreign: 0 }],
    ]);
    const onEvent = (event: MarketoEvent) => {
      // REST calls only: identity calls do not count against Marketo's quota or rate (§12).
      if (event.type === "response" && event.endpoint !== "identity") {
        calls.set(event.code, (calls.get(event.code) ?? 0) + 1);
      }
      if (event.type === "throttled") {
        const byCause = throttled.get(event.code as "606" | "615");
        if (byCause) byCause[event.cause] += 1;
      }
    };
    const client = new MarketoClient({
      ...options.clientOptions,
      baseUrl: config.baseUrl ?? (sandbox as Sandbox).url,
      clientId: config.clientId ?? (sandbox as Sandbox).clientId,
      clientSecret: config.clientSecret ?? (sandbox as Sandbox).clientSecret,
      now,
      onEvent,
      ...(config.callsPer20s || config.concurrency || config.dailyBudget || gateStore
        ? {
            gate: {
              ...(config.callsPer20s ? { calls: config.callsPer20s } : {}),
              ...(config.concurrency ? { concurrency: config.concurrency } : {}),
              // The gate refuses calls past the budget until the quota day ends (as after a 607).
              ...(config.dailyBudget ? { dailyQuota: config.dailyBudget } : {}),
              ...(gateStore ? { store: gateStore } : {}),
            },
          }
        : {}),
    });
    let schema: Promise<LeadSchema> | undefined;
    const destinationLeaseMs = options.scheduler?.leaseMs ?? options.config.scheduler?.leaseMs;
    return {
      name: config.name,
      markerField: config.markerField,
      client,
      calls,
      throttled,
      dispatcher: new Dispatcher({
        store: options.store,
        writes,
        destination: config.name,
        client,
        worker,
        now,
        // A drain's lease (post, repost) lasts as the scheduler's does.
        ...(destinationLeaseMs === undefined ? {} : { destinationLeaseMs }),
        ...(options.config.retry ? { policy: options.config.retry } : {}),
        ...(options.config.verify ? { verify: options.config.verify } : {}),
        ...(config.markerField === undefined ? {} : { markerField: config.markerField }),
        // 1.25 × the spacing of the share's calls (100 per 20 s → 250 ms): headroom for the
        // follow-up and schema calls that share the same budget.
        minRoundIntervalMs: (1.25 * 20_000) / (config.callsPer20s ?? 100),
        // Marketo answered 1006: a field was deleted or renamed since the schema was cached.
        onRecorded: (records) => {
          if (records.some((r) => r.statusCode === "1006")) schema = undefined;
        },
      }),
      schema(options = {}) {
        if (!schema || options.refresh) {
          schema = client.describeLeads();
          schema.catch(() => {
            schema = undefined;
          });
        }
        return schema;
      },
    };
  }

  get destinations(): readonly Destination[] {
    return [...this.#destinations.values()];
  }

  /** The key that seals and opens the catalog's client secrets. */
  get keys(): KeySource {
    return this.#keys;
  }

  /**
   * The credentials a destination runs with, for a connection test only: never to be returned
   * by the API, shown or logged. `undefined` for an unknown destination.
   */
  credentialsOf(
    name: string,
  ): { baseUrl: string; clientId: string; clientSecret: string } | undefined {
    if (!this.#destinations.has(name)) return undefined;
    const config =
      this.#fromCatalog.get(name) ?? this.#options.config.destinations.find((d) => d.name === name);
    const baseUrl = config?.baseUrl ?? this.sandbox?.url;
    const clientId = config?.clientId ?? this.sandbox?.clientId;
    const clientSecret = config?.clientSecret ?? this.sandbox?.clientSecret;
    if (baseUrl === undefined || clientId === undefined || clientSecret === undefined)
      return undefined;
    return { baseUrl, clientId, clientSecret };
  }

  /**
   * Reads the catalog again when it changed (one cheap version query otherwise) and adds,
   * rebuilds (new credentials or limits: a new client, so a new token) or removes the catalog's
   * destinations to match. Every process on the database calls it about once a second.
   */
  syncDestinations(): Promise<CatalogSync> {
    const run = this.#syncing.then(() => this.#sync(false));
    this.#syncing = run.catch(() => {});
    return run;
  }

  async #sync(strict: boolean): Promise<CatalogSync> {
    const version = await this.store.catalogVersion();
    if (version === this.#catalogVersion) return { added: [], changed: [], removed: [] };
    const wanted = new Map<string, { config: DestinationConfig; settings: DestinationSettings }>();
    for (const entry of await this.store.listCatalog()) {
      const running = this.#destinations.get(entry.name);
      if (running?.source === "config") {
        const message = `postout: the destination "${entry.name}" is both in the config file (or MARKETO_*) and in the catalog: remove one (postout destinations remove ${entry.name}, or edit the file); the config file's is used`;
        if (strict) throw new ConfigError(message);
        this.#sayOnce(message);
        continue;
      }
      try {
        wanted.set(entry.name, {
          config: configOfEntry(entry, this.#keys, this.#opened),
          settings: settingsOfEntry(entry),
        });
      } catch (error) {
        if (strict || !(error instanceof ConfigError)) throw error;
        // A key that does not open it (rotated by another process under POSTOUT_SECRET_KEY):
        // the destination keeps running as it was; the message names keys, never the secret.
        this.#sayOnce(`postout: ${error.message}`);
        const kept = this.#fromCatalog.get(entry.name);
        if (kept && running) wanted.set(entry.name, { config: kept, settings: running.settings });
      }
    }
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    for (const name of [...this.#fromCatalog.keys()]) {
      if (!wanted.has(name)) {
        await this.#detach(name);
        this.#opened.delete(name);
        removed.push(name);
      }
    }
    for (const [name, { config, settings }] of wanted) {
      const before = this.#fromCatalog.get(name);
      if (before && sameConfig(before, config)) {
        const running = this.#destinations.get(name);
        if (running) this.#destinations.set(name, { ...running, settings });
        continue;
      }
      if (before) await this.#detach(name, { keepGate: true });
      this.#attach(config, settings);
      (before ? changed : added).push(name);
    }
    this.#catalogVersion = version;
    return { added, changed, removed };
  }

  /** Runs a catalog destination (its dispatcher too when dispatchers run). */
  #attach(config: DestinationConfig, settings: DestinationSettings): void {
    const baseUrl = config.baseUrl ?? "";
    const kept = this.#gateStores.get(config.name);
    const gateStore = kept?.baseUrl === baseUrl ? kept.store : new MemoryGateStore();
    this.#gateStores.set(config.name, { baseUrl, store: gateStore });
    const destination: Destination = {
      ...Gateway.#destination(
        config,
        this.#options,
        this.#writes,
        this.sandbox,
        this.worker,
        this.#now,
        gateStore,
      ),
      source: "api",
      settings,
    };
    this.#destinations.set(config.name, destination);
    this.#fromCatalog.set(config.name, config);
  }

  /** Stops a catalog destination: its round in progress ends first, then it is gone. */
  async #detach(name: string, options: { readonly keepGate?: boolean } = {}): Promise<void> {
    const release = await this.scheduler.hold(name);
    this.#destinations.delete(name);
    this.#fromCatalog.delete(name);
    if (!options.keepGate) this.#gateStores.delete(name);
    release();
  }

  /**
   * Runs `change` (a removal) with the destination's sending stopped, so no round is in flight
   * while its leads are held; then reads the catalog again. Sending resumes when the
   * destination is still there (the removal was refused).
   */
  async whileStopped<T>(name: string, change: () => Promise<T>): Promise<T> {
    const release = await this.scheduler.hold(name);
    try {
      return await change();
    } finally {
      await this.syncDestinations();
      release();
    }
  }

  #sayOnce(line: string): void {
    if (this.#said.has(line)) return;
    this.#said.add(line);
    this.#log(line);
  }

  /** The destination named `name`, if there is one. */
  findDestination(name: string): Destination | undefined {
    return this.#destinations.get(name);
  }

  /** The named destination, or the only one when no name is given. */
  destination(name?: string): Destination {
    if (name === undefined) {
      const [first, ...rest] = this.#destinations.values();
      if (!first || rest.length > 0) {
        throw new UnknownDestinationError(
          `choose a destination with --destination: ${[...this.#destinations.keys()].join(", ")}`,
        );
      }
      return first;
    }
    const found = this.#destinations.get(name);
    if (!found)
      throw new UnknownDestinationError(
        `no destination named "${name}" (configured: ${[...this.#destinations.keys()].join(", ")})`,
      );
    return found;
  }

  /**
   * Gives back leads that a dead process left in `sending` (kill -9, power loss) and leads
   * whose claim expired, so they are sent again — verified first where a resend could duplicate.
   * The destination leases of a dead process of this host are given up too: a `post` run again
   * after a crash takes its destination at once instead of when the dead one's lease runs out.
   */
  async recover(): Promise<number> {
    const host = hostname();
    const deadHere = (worker: string) => {
      const [h, pid] = worker.split(":");
      return (
        h === host && pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))
      );
    };
    const owners = await this.store.leaseOwners([...this.#destinations.keys()]);
    for (const owner of owners.filter(deadHere)) await this.store.releaseWorker(owner);
    let released = 0;
    for (const { name } of this.#destinations.values()) {
      const dead = (await this.store.sendingWorkers(name)).filter(deadHere);
      released += await this.store.releaseClaims(name, {
        workers: dead,
        expiredBefore: this.#now(),
      });
    }
    return released;
  }

  /** New leads for the destination wait: its round starts after the linger, if this process holds its lease. */
  wake(name: string): void {
    this.scheduler.wake(name);
  }

  /** Lifts a destination's pause and puts its paused leads back in line. Resolves to how many. */
  async resume(name: string): Promise<number> {
    const now = this.#now();
    await this.store.setDestinationPause(name, undefined, now);
    const resumed = await this.store.resumeDestination(name, now);
    this.wake(name);
    return resumed;
  }

  /** Stores prepared leads in chunks (one transaction each); resolves when every one is on disk. */
  async accept(
    rows:
      | AsyncIterable<{ readonly raw: Readonly<Record<string, unknown>>; readonly line?: number }>
      | Iterable<{ readonly raw: Readonly<Record<string, unknown>>; readonly line?: number }>,
    options: {
      readonly destination: string;
      readonly route: Route;
      readonly prepare: (raw: Readonly<Record<string, unknown>>) => Prepared | Promise<Prepared>;
      readonly source?: string;
      readonly mapPath?: string;
      readonly test?: boolean;
      readonly chunk?: number;
      readonly onChunk?: (done: number) => void;
    },
  ): Promise<{ readonly ids: number[]; readonly accepted: number; readonly duplicates: number }> {
    const chunkSize = options.chunk ?? 1000;
    const ids: number[] = [];
    let accepted = 0;
    let duplicates = 0;
    let chunk: NewLead[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const result = await this.#writes.add(chunk, this.#now());
      ids.push(...result.ids);
      accepted += result.accepted;
      duplicates += result.duplicates;
      chunk = [];
      options.onChunk?.(ids.length);
    };
    const routeJson = JSON.stringify(options.route);
    for await (const row of rows) {
      const prepared = await options.prepare(row.raw);
      chunk.push({
        destination: options.destination,
        route: options.route,
        raw: row.raw,
        input: prepared.input,
        intakeKey: keyOf(routeJson, row.raw, options.test === true),
        ...(options.source === undefined ? {} : { source: options.source }),
        ...(options.mapPath === undefined ? {} : { mapPath: options.mapPath }),
        ...(row.line === undefined ? {} : { sourceLine: row.line }),
        ...(options.test ? { test: true } : {}),
        ...("refused" in prepared ? { refused: prepared.refused } : {}),
      });
      if (chunk.length >= chunkSize) await flush();
    }
    await flush();
    this.wake(options.destination);
    return { ids, accepted, duplicates };
  }

  /** Counts of the given leads by status, and of their attempts by code. */
  async summarize(
    ids: readonly number[],
    options: {
      /** Epoch ms: count only the calls made since (this run's), not the leads' whole history. */
      readonly since?: number;
    } = {},
  ): Promise<{
    status: Record<LeadStatus, number>;
    codes: Record<string, number>;
    created: number;
    updated: number;
  }> {
    const since = options.since ?? Number.NEGATIVE_INFINITY;
    const status: Record<string, number> = {};
    const codes: Record<string, number> = {};
    let created = 0;
    let updated = 0;
    for (let i = 0; i < ids.length; i += 10_000) {
      const filter: LeadFilter = { ids: ids.slice(i, i + 10_000) };
      for (const [k, v] of Object.entries(await this.store.countByStatus(filter)))
        status[k] = (status[k] ?? 0) + v;
      // Created or updated: the answer to the lead's own call, not to a list or activity step.
      const primary = new Map<number, string | undefined>();
      for await (const a of this.store.iterateAttempts(filter, 5000)) {
        if (a.at >= since) codes[a.statusCode] = (codes[a.statusCode] ?? 0) + 1;
        const done = a.lead.status === "delivered" || a.lead.status === "test";
        if (done && a.statusCode === "200" && PRIMARY_ENDPOINTS.has(a.endpoint))
          primary.set(a.leadId, a.reason);
      }
      for (const reason of primary.values()) {
        if (reason === "created") created++;
        else updated++;
      }
    }
    return { status: status as Record<LeadStatus, number>, codes, created, updated };
  }

  /**
   * Stops starting rounds, lets those in flight finish, gives up the destination leases (others
   * take them at once), then stops the built-in sandbox; the store stays open for the caller
   * to close.
   */
  async close(): Promise<void> {
    await this.#syncing;
    await this.scheduler.stop();
    await this.sandbox?.close();
  }
}
