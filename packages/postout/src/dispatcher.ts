import {
  type BatchResult,
  isMarketoError,
  type MarketoClient,
  type WriteOptions,
} from "@postout/marketo";
import { type Delivered, failedAt, responseOf, runFollowUps, type Sent } from "./follow-ups.ts";
import { type LeadOutcome, type OutcomePolicy, outcomeOf, retryOrGiveUp } from "./outcome.ts";
import { leadFields, lookupFieldOf, type Route, requestContent } from "./route.ts";
import type { AttemptRecord, ClaimedLead, Store } from "./store/store.ts";
import { TryLog } from "./try-log.ts";

export interface DispatcherOptions {
  readonly store: Store;
  readonly destination: string;
  readonly client: MarketoClient;
  /** This process's worker id; claims carry it so a dead worker's leads can be given back. */
  readonly worker: string;
  /**
   * How long to wait after being woken before claiming, so a real-time trickle still forms batches.
   * @default 50
   */
  readonly lingerMs?: number;
  /**
   * Leads claimed per round: ten full batches, enough to keep ten calls in flight.
   * @default 3000
   */
  readonly claimLimit?: number;
  /**
   * How long a claim holds before another worker may take the leads back. Renewed while sending.
   * @default 300_000
   */
  readonly leaseMs?: number;
  /**
   * Longest sleep between checks for due leads when nothing wakes the dispatcher.
   * @default 1000
   */
  readonly idleMs?: number;
  /**
   * Least time between the starts of two rounds of the background loop. The gateway sets it a
   * little above window ÷ calls of the destination's share (20 s ÷ 100 → 250 ms), so a trickle
   * is batched at the pace Marketo allows instead of queueing single-lead calls in the gate.
   * @default 0
   */
  readonly minRoundIntervalMs?: number;
  readonly policy?: OutcomePolicy;
  /**
   * Called when a background round fails (e.g. the database stays busy); the loop goes on.
   * @default writes the message to stderr
   */
  readonly onError?: (error: unknown) => void;
  /** Called after each round's attempts are recorded (e.g. to refresh the schema after a 1006). */
  readonly onRecorded?: (records: readonly AttemptRecord[]) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

function endpointPath(route: Route): string {
  return route.endpoint === "pushLeads" ? "/rest/v1/leads/push.json" : "/rest/v1/leads.json";
}

interface Merged {
  readonly input: Record<string, unknown>;
  readonly leads: ClaimedLead[];
}

/**
 * Leads with the same lookup value go into one record (later fields win): Marketo would
 * otherwise answer 1007/1036 for duplicates within a call, or race two upserts.
 */
export function mergeByLookup(leads: readonly ClaimedLead[], lookupField: string): Merged[] {
  const merged: Merged[] = [];
  const byKey = new Map<string, Merged>();
  for (const lead of leads) {
    const value = lead.input[lookupField];
    const key =
      typeof value === "string"
        ? value.trim().toLowerCase()
        : value === undefined
          ? undefined
          : String(value);
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) {
      Object.assign(existing.input, lead.input);
      existing.leads.push(lead);
      continue;
    }
    const entry = { input: { ...lead.input }, leads: [lead] };
    merged.push(entry);
    if (key !== undefined) byKey.set(key, entry);
  }
  return merged;
}

/**
 * One per destination: claims due leads, sends them in batches by route, and records an
 * attempt per lead. The only writer of delivery state.
 */
export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, "policy" | "onRecorded">> & {
    readonly policy: OutcomePolicy | undefined;
    readonly onRecorded: DispatcherOptions["onRecorded"] | undefined;
  };
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #woken = false;

  constructor(options: DispatcherOptions) {
    this.#o = {
      lingerMs: 50,
      claimLimit: 3000,
      leaseMs: 300_000,
      idleMs: 1000,
      minRoundIntervalMs: 0,
      now: Date.now,
      onError: (error) =>
        process.stderr.write(
          `postout: dispatcher ${options.destination}: ${error instanceof Error ? error.message : String(error)}\n`,
        ),
      ...options,
      policy: options.policy,
      onRecorded: options.onRecorded,
    };
  }

  get destination(): string {
    return this.#o.destination;
  }

  /** Runs rounds in the background until {@link stop}. */
  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  /** Finishes the round in progress and stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = undefined;
  }

  /** New leads are waiting: claim them after the linger. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #loop(): Promise<void> {
    // One round at a time: while a call is in flight, new leads gather into the next batch. At
    // Marketo's 100 calls per 20 s a trickle must be batched anyway (50 leads/s needs ≥ 10 leads
    // a call); overlapping rounds were measured to overrun the gate and make latency worse.
    let lastRound = Number.NEGATIVE_INFINITY;
    while (!this.#stopping) {
      try {
        // Pace rounds to the destination's share of the rate limit: a round sooner than that
        // would only wait in the gate, while leads arriving meanwhile could have joined it.
        // Not #sleep: a wake() for new leads must not cut this wait short.
        const gap = lastRound + this.#o.minRoundIntervalMs - performance.now();
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        lastRound = performance.now();
        if ((await this.runOnce()) > 0 || this.#stopping) continue;
        await this.#idle();
      } catch (error) {
        // A failed round leaves its leads claimed until their lease runs out; #idle then gives
        // them back. The loop itself must not die, or the destination would stop delivering.
        this.#o.onError(error);
        await this.#sleep(this.#o.idleMs);
      }
    }
  }

  /** Nothing is due now: give back expired claims, then sleep until the next lead is due or a wake. */
  async #idle(): Promise<void> {
    const { store, destination } = this.#o;
    // A claim whose lease ran out (a round that failed, a worker that died on another host) is
    // otherwise only given back when a gateway starts.
    await store.releaseClaims(destination, { expiredBefore: this.#o.now() });
    const next = await store.nextDueAt(destination);
    const pause = await store.getDestination(destination);
    const now = this.#o.now();
    let wait = this.#o.idleMs;
    if (next !== undefined) wait = Math.min(wait, Math.max(0, next - now));
    if (pause?.pausedUntil !== undefined && pause.pausedUntil > now) wait = this.#o.idleMs;
    await this.#sleep(wait);
    if (this.#woken) {
      this.#woken = false;
      await this.#sleep(this.#o.lingerMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  /**
   * Runs rounds until no lead of the destination is due now (each is delivered, needs a fix,
   * or waits for a later retry or the end of a pause). Resolves to the number of leads handled.
   */
  async drain(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 1_000_000; round++) {
      const handled = await this.runOnce();
      total += handled;
      if (handled === 0) return total;
    }
    return total;
  }

  /** One round: claim due leads, send them, record the outcomes. Resolves to how many leads it handled. */
  async runOnce(): Promise<number> {
    const claimed = await this.#claim();
    if (claimed.length > 0) await this.#deliver(claimed);
    return claimed.length;
  }

  /** Claims the due leads of the destination, unless it is paused; ends a pause that is over. */
  async #claim(): Promise<ClaimedLead[]> {
    const { store, destination, worker, leaseMs, claimLimit } = this.#o;
    const now = this.#o.now();
    const pause = await store.getDestination(destination);
    if (pause?.pausedUntil !== undefined) {
      if (pause.pausedUntil > now) {
        // Leads accepted while the destination is paused wait as paused, so a summary or a
        // report counts them instead of showing them nowhere.
        await store.holdQueued(destination, pause.pausedUntil, now);
        return [];
      }
      // The pause is over (e.g. the quota reset at midnight Chicago): put the paused leads back in line.
      await store.setDestinationPause(destination, undefined, now);
      await store.resumeDestination(destination, now);
    }
    return store.claimDue(destination, { now, limit: claimLimit, worker, leaseMs });
  }

  /** Sends claimed leads by route and records an attempt for each. */
  async #deliver(claimed: readonly ClaimedLead[]): Promise<void> {
    const { store, destination, worker, leaseMs } = this.#o;
    const renew = setInterval(
      () => {
        void store.renewLeases(worker, this.#o.now() + leaseMs);
      },
      Math.max(1000, leaseMs / 3),
    );
    try {
      const groups = new Map<string, ClaimedLead[]>();
      for (const lead of claimed) {
        const group = groups.get(lead.routeKey);
        if (group) group.push(lead);
        else groups.set(lead.routeKey, [lead]);
      }
      const tries = new TryLog(this.#o.now);
      const records = (
        await Promise.all([...groups.values()].map((leads) => this.#sendOrRetry(leads, tries)))
      ).flat();
      await store.recordAttempts(
        records.map((r) => r.record),
        tries.take(),
      );
      this.#o.onRecorded?.(records.map((r) => r.record));
      const pauseOutcome = records.find((r) => r.outcome.pauseDestination)?.outcome
        .pauseDestination;
      if (pauseOutcome) await store.setDestinationPause(destination, pauseOutcome, this.#o.now());
    } finally {
      clearInterval(renew);
    }
  }

  /** Sends one route's leads; an unexpected failure schedules them for retry instead of losing the round. */
  async #sendOrRetry(
    claimed: ClaimedLead[],
    tries: TryLog,
  ): Promise<{ record: AttemptRecord; outcome: LeadOutcome }[]> {
    try {
      return await this.#send(claimed, tries);
    } catch (error) {
      const at = this.#o.now();
      const code = isMarketoError(error) ? error.code : "internal_error";
      const reason = error instanceof Error ? error.message : String(error);
      return claimed.map((lead) => {
        // Whether the call reached Marketo is unknown: retry on the schedule, keeping the lead uncertain.
        const retry = retryOrGiveUp(code, reason, undefined, lead.attempts + 1, at, this.#o.policy);
        return {
          outcome: retry,
          record: {
            leadId: lead.id,
            at,
            endpoint: endpointPath(lead.route),
            request: requestContent(lead.route, lead.input),
            response: undefined,
            requestId: undefined,
            statusCode: code,
            reason,
            durationMs: 0,
            status: retry.status,
            ...(retry.nextAt === undefined ? {} : { nextAt: retry.nextAt }),
            uncertain: true,
          },
        };
      });
    }
  }

  async #send(
    claimed: ClaimedLead[],
    tries: TryLog,
  ): Promise<{ record: AttemptRecord; outcome: LeadOutcome }[]> {
    const route = (claimed[0] as ClaimedLead).route;
    const { found, leads } = await this.#verifyInterrupted(route, claimed);
    if (leads.length === 0)
      return [...found, ...(await this.#followUps(route, claimed, found, tries))];
    // Fields meant for follow-up steps (custom object, activity) are not lead fields.
    const merged = mergeByLookup(
      leads.map((l) => ({ ...l, input: leadFields(route, l.input) })),
      lookupFieldOf(route),
    );
    const started = this.#o.now();
    const batch = await this.#call(
      route,
      merged.map((m) => m.input),
      tries.options(endpointPath(route), (i) =>
        (merged[i]?.leads ?? []).map((lead) => ({
          leadId: lead.id,
          n: lead.attempts + 1,
          request: requestContent(route, lead.input),
        })),
      ),
    );
    const at = this.#o.now();
    const perLead = Math.max(0, at - started);
    const out: Sent[] = [];
    batch.results.forEach((result, i) => {
      const entry = merged[i] as Merged;
      for (const lead of entry.leads) {
        const sent = outcomeOf(result, lead.attempts + 1, at, this.#o.policy);
        // A lead sent by test-integration ends as `test`, so reports tell it from real leads.
        const outcome: LeadOutcome =
          lead.test && sent.status === "delivered" ? { ...sent, status: "test" } : sent;
        out.push({
          outcome,
          record: {
            leadId: lead.id,
            at,
            endpoint: failedAt(result.error) ?? endpointPath(route),
            request: requestContent(route, lead.input),
            response: responseOf(result),
            requestId: result.requestId,
            statusCode: outcome.statusCode,
            reason: outcome.reason,
            durationMs: perLead,
            status: outcome.status,
            ...(outcome.nextAt === undefined ? {} : { nextAt: outcome.nextAt }),
            ...(outcome.marketoId === undefined ? {} : { marketoId: outcome.marketoId }),
            ...(outcome.fix === undefined ? {} : { fix: outcome.fix }),
          },
        });
      }
    });
    // A lead found after an interrupted send still needs its follow-up steps (list, object, activity).
    return [
      ...found,
      ...out,
      ...(await this.#followUps(route, claimed, [...found, ...out], tries)),
    ];
  }

  /** Runs the route's follow-up steps for the leads whose own call delivered them. */
  async #followUps(
    route: Route,
    claimed: readonly ClaimedLead[],
    sent: readonly Sent[],
    tries: TryLog,
  ) {
    const byId = new Map(claimed.map((l) => [l.id, l]));
    const delivered = sent.flatMap((s): Delivered[] => {
      const lead = byId.get(s.record.leadId);
      return lead &&
        s.outcome.marketoId !== undefined &&
        (s.outcome.status === "delivered" || s.outcome.status === "test")
        ? [
            {
              leadId: lead.id,
              marketoId: s.outcome.marketoId,
              input: lead.input,
              attempts: lead.attempts + 1,
              test: lead.test,
            },
          ]
        : [];
    });
    return runFollowUps(
      { client: this.#o.client, now: this.#o.now, policy: this.#o.policy, tries },
      route,
      delivered,
    );
  }

  /**
   * A lead whose send was interrupted (the process died mid-call) may already be in Marketo.
   * Upserts (createOrUpdate, updateOnly, Push Lead) are safe to send again; createOnly and
   * createDuplicate are not, so those leads are looked up by their lookup field first and
   * recorded as delivered when found.
   */
  async #verifyInterrupted(
    route: Route,
    claimed: ClaimedLead[],
  ): Promise<{ found: { record: AttemptRecord; outcome: LeadOutcome }[]; leads: ClaimedLead[] }> {
    const risky =
      route.endpoint === "syncLeads" &&
      (route.action === "createOnly" || route.action === "createDuplicate");
    const uncertain = risky ? claimed.filter((l) => l.uncertain) : [];
    if (uncertain.length === 0) return { found: [], leads: claimed };
    const field = lookupFieldOf(route);
    const values = uncertain.flatMap((l) => {
      const v = l.input[field];
      return typeof v === "string" || typeof v === "number" ? [v] : [];
    });
    const existing = new Map<string, number>();
    for await (const page of this.#o.client.getLeadsByFilter({
      filterType: field,
      filterValues: values,
      fields: ["id", field],
    })) {
      for (const row of page) {
        const key = row[field];
        if ((typeof key === "string" || typeof key === "number") && typeof row.id === "number") {
          existing.set(String(key).toLowerCase(), row.id);
        }
      }
    }
    const at = this.#o.now();
    const found: { record: AttemptRecord; outcome: LeadOutcome }[] = [];
    const leads = claimed.filter((lead) => {
      if (!lead.uncertain) return true;
      const id = existing.get(String(lead.input[field]).toLowerCase());
      if (id === undefined) return true;
      const outcome: LeadOutcome = {
        status: "delivered",
        statusCode: "200",
        reason: "found in Marketo after an interrupted send",
        fix: undefined,
        marketoId: id,
      };
      found.push({
        outcome,
        record: {
          leadId: lead.id,
          at,
          endpoint: "/rest/v1/leads.json?_method=GET",
          request: { filterType: field, filterValues: [lead.input[field]] },
          response: { success: true, result: [{ id }] },
          requestId: undefined,
          statusCode: "200",
          reason: outcome.reason,
          durationMs: 0,
          status: "delivered",
          marketoId: id,
        },
      });
      return false;
    });
    return { found, leads };
  }

  #call(
    route: Route,
    inputs: Record<string, unknown>[],
    observe: WriteOptions,
  ): Promise<BatchResult<Record<string, unknown>>> {
    const { client } = this.#o;
    if (route.endpoint === "pushLeads") {
      return client.pushLeads(inputs, {
        ...observe,
        programName: route.programName,
        ...(route.source === undefined ? {} : { source: route.source }),
        ...(route.reason === undefined ? {} : { reason: route.reason }),
        ...(route.lookupField === undefined ? {} : { lookupField: route.lookupField }),
        ...(route.partitionName === undefined ? {} : { partitionName: route.partitionName }),
        ...(route.programStatus === undefined ? {} : { programStatus: route.programStatus }),
      });
    }
    return client.syncLeads(inputs, {
      ...observe,
      ...(route.action === undefined ? {} : { action: route.action }),
      ...(route.lookupField === undefined ? {} : { lookupField: route.lookupField }),
      ...(route.partitionName === undefined ? {} : { partitionName: route.partitionName }),
    });
  }
}
