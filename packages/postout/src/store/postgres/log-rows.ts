import { clip } from "@postout/marketo";
import { boundedResponse, boundedText, ROW_BOUNDS } from "../row-bounds.ts";
import type { LoggedCall } from "../store.ts";
import type { Query } from "./database.ts";
import { INSERT_ATTEMPTS } from "./sql.ts";
import { ms, text } from "./values.ts";

/** A row of the post-out log as INSERT_ATTEMPTS takes it. */
export interface LogRow {
  readonly leadId: number;
  readonly n: number;
  readonly at: number;
  readonly destination: string;
  readonly endpoint: string;
  readonly request: string;
  readonly response: string | null;
  readonly requestId: string | null;
  readonly statusCode: string;
  readonly reason: string | null;
  readonly outcome: string;
  readonly durationMs: number;
}

/** One row of the post-out log for a call: a call sent again reads `sending`, a decisive one the status it set. */
export function logRow(call: LoggedCall, n: number, destination: string, outcome: string): LogRow {
  return {
    leadId: call.leadId,
    n,
    at: ms(call.at),
    destination,
    endpoint: text(call.endpoint),
    request: JSON.stringify(call.request),
    response: boundedResponse(call.response),
    requestId: text(boundedText(call.requestId, ROW_BOUNDS.requestId)),
    statusCode: text(clip(call.statusCode, ROW_BOUNDS.statusCode)),
    reason: text(boundedText(call.reason, ROW_BOUNDS.reason)),
    outcome,
    durationMs: Math.round(call.durationMs),
  };
}

/** The preflight attempt of a lead refused at intake or at a repost: no call was spent. */
export function refusalRow(
  leadId: number,
  n: number,
  now: number,
  destination: string,
  request: unknown,
  refused: { readonly code: string; readonly reason: string },
): LogRow {
  return {
    leadId,
    n,
    at: ms(now),
    destination,
    endpoint: "preflight",
    request: JSON.stringify(request),
    response: null,
    requestId: null,
    statusCode: text(refused.code),
    reason: text(refused.reason),
    outcome: "needs_fix",
    durationMs: 0,
  };
}

/** Writes rows of the post-out log in the order given, in one statement. */
export async function insertLog(query: Query, log: readonly LogRow[]): Promise<void> {
  if (log.length === 0) return;
  await query(INSERT_ATTEMPTS, [
    log.map((r) => r.leadId),
    log.map((r) => r.n),
    log.map((r) => r.at),
    log.map((r) => r.destination),
    log.map((r) => r.endpoint),
    log.map((r) => r.request),
    log.map((r) => r.response),
    log.map((r) => r.requestId),
    log.map((r) => r.statusCode),
    log.map((r) => r.reason),
    log.map((r) => r.outcome),
    log.map((r) => r.durationMs),
  ]);
}
