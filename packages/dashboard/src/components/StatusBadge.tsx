import type { LeadStatus } from "../types.ts";

const LABELS: Record<LeadStatus, string> = {
  queued: "queued",
  sending: "sending",
  delivered: "delivered",
  retrying: "retrying",
  needs_fix: "needs fix",
  paused: "paused",
  test: "test",
};

export function StatusBadge({ status }: { readonly status: LeadStatus }) {
  return <span className={`badge badge-${status}`}>{LABELS[status] ?? status}</span>;
}
