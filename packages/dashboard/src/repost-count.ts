import { type LeadStatus, STATUSES } from "./types.ts";

/**
 * How many leads "repost all matching this filter" will queue again: the counts of the
 * statuses the filter allows, less `sending` — repost leaves a lead being sent alone
 * (packages/postout/src/repost.ts), so the confirmation must not promise it.
 */
export function repostableCount(
  counts: Readonly<Partial<Record<LeadStatus, number>>>,
  statusFilter: string | undefined,
): number {
  const wanted = statusFilter?.split(",").map((s) => s.trim()) ?? STATUSES;
  return STATUSES.reduce(
    (sum, s) => (s !== "sending" && wanted.includes(s) ? sum + (counts[s] ?? 0) : sum),
    0,
  );
}
