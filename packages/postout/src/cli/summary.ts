import type { Gateway } from "../gateway.ts";
import { UNREACHABLE } from "../outcome.ts";

/** What `post` and `repost` print at the end (`--json` keys are a contract). */
export interface DeliverySummary {
  readonly accepted: number;
  readonly alreadyAccepted: number;
  readonly rejected: number;
  readonly delivered: number;
  readonly created: number;
  readonly updated: number;
  readonly needsFix: number;
  readonly retrying: number;
  readonly paused: number;
  readonly calls: number;
  /** Rows of these leads' post-out log by ResponseStatusCode ("200", "1006", …), calls the client sent again included. */
  readonly codes: Readonly<Record<string, number>>;
}

/** Counts the outcome of the given leads once delivery has settled. */
export async function summarize(
  gateway: Gateway,
  ids: readonly number[],
  counts: {
    readonly accepted: number;
    readonly alreadyAccepted: number;
    readonly rejected: number;
  },
  /** Epoch ms the run started: its codes are those of the calls made since. */
  since?: number,
): Promise<DeliverySummary> {
  const s = await gateway.summarize(ids, since === undefined ? {} : { since });
  const calls = gateway.destinations.reduce(
    (sum, d) => sum + [...d.calls.values()].reduce((a, b) => a + b, 0),
    0,
  );
  return {
    ...counts,
    delivered: s.status.delivered ?? 0,
    created: s.created,
    updated: s.updated,
    needsFix: s.status.needs_fix ?? 0,
    retrying: s.status.retrying ?? 0,
    paused: s.status.paused ?? 0,
    calls,
    codes: s.codes,
  };
}

export function printSummary(summary: DeliverySummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const codes = Object.entries(summary.codes)
    .map(([c, n]) => `${c}×${n}`)
    .join(" ");
  process.stdout.write(
    `${[
      `accepted   ${summary.accepted}${summary.alreadyAccepted ? ` (+${summary.alreadyAccepted} already accepted)` : ""}`,
      `rejected   ${summary.rejected}`,
      `delivered  ${summary.delivered} (created ${summary.created}, updated ${summary.updated})`,
      `needs fix  ${summary.needsFix}`,
      `retrying   ${summary.retrying}`,
      `paused     ${summary.paused}`,
      `calls      ${summary.calls}`,
      `codes      ${codes || "-"}`,
    ].join("\n")}\n`,
  );
  if (summary.needsFix > 0)
    process.stderr.write("see why and how to fix: postout report --status needs_fix\n");
}

/** 0 when every lead is delivered and no row was rejected, 1 otherwise. */
export function exitCodeOf(summary: DeliverySummary, leads: number): number {
  return summary.rejected === 0 && summary.delivered === leads ? 0 : 1;
}

/**
 * Why leads of the run were not sent and what to do, on stderr beside the summary: leads
 * paused with their destination (bad credentials, access denied, the daily quota) or waiting
 * on an unreachable Marketo, read from the latest such lead (its reason and fix name the
 * cause). `undefined` when neither happened.
 */
export async function waitingNote(
  gateway: Gateway,
  destination: string,
  summary: DeliverySummary,
): Promise<string | undefined> {
  const filter =
    summary.paused > 0
      ? { destination, status: ["paused" as const] }
      : summary.codes[UNREACHABLE]
        ? { destination, status: ["retrying" as const, "needs_fix" as const], code: [UNREACHABLE] }
        : undefined;
  if (!filter) return undefined;
  const { leads, counts } = await gateway.store.listLeads(filter, { limit: 1 });
  const lead = leads[0];
  if (!lead) return undefined;
  const waiting = (counts.paused ?? 0) + (counts.retrying ?? 0) + (counts.needs_fix ?? 0);
  const how =
    lead.status === "paused" ? `wait paused at ${destination}` : `not sent to ${destination}`;
  const code = lead.lastCode === undefined ? "" : ` (${lead.lastCode})`;
  return `postout: ${waiting} lead(s) ${how}: ${lead.lastReason ?? "no reason given"}${code}. ${lead.fix ?? ""}`.trimEnd();
}
