import { explainCode, fixFor, meaningFor } from "@postout/marketo";
import { UNTIL_RESUMED } from "../outcome.ts";
import { ownCode } from "../own-codes.ts";
import type { AttemptRow, LeadRow } from "../store/store.ts";

/** ISO 8601, or null for no time and for UNTIL_RESUMED (a pause with no end is no date). */
function iso(ms: number | undefined): string | null {
  return ms === undefined || ms >= UNTIL_RESUMED ? null : new Date(ms).toISOString();
}

/**
 * The lead's last ResponseStatusCode, as its last attempt and the report have it. The store
 * keeps only a code that is not 200 (so the code filter and explanations read failures); a
 * delivered lead (or a test lead, its delivered) was last answered 200.
 */
function lastCodeOf(lead: LeadRow): string | null {
  if (lead.lastCode !== undefined) return lead.lastCode;
  return lead.status === "delivered" || lead.status === "test" ? "200" : null;
}

/** A lead as the API shows it (times as ISO 8601; the map file's path stays inside). */
export function leadJson(lead: LeadRow) {
  return {
    id: lead.id,
    destination: lead.destination,
    email: lead.email ?? null,
    program: lead.program ?? null,
    status: lead.status,
    attempts: lead.attempts,
    lastCode: lastCodeOf(lead),
    lastReason: lead.lastReason ?? null,
    fix: lead.fix ?? null,
    marketoId: lead.marketoId ?? null,
    test: lead.test,
    source: lead.source ?? null,
    sourceLine: lead.sourceLine ?? null,
    nextAt: iso(lead.nextAt),
    createdAt: iso(lead.createdAt),
    updatedAt: iso(lead.updatedAt),
    route: lead.route,
    raw: lead.raw,
    input: lead.input ?? null,
  };
}

/** One attempt: the request content for this lead, Marketo's response, code and reason. */
export function attemptJson(attempt: AttemptRow) {
  return {
    n: attempt.n,
    at: iso(attempt.at),
    endpoint: attempt.endpoint,
    request: attempt.request,
    response: attempt.response ?? null,
    requestId: attempt.requestId ?? null,
    responseStatusCode: attempt.statusCode,
    responseReason: attempt.reason ?? null,
    outcome: attempt.outcome,
    durationMs: attempt.durationMs ?? null,
  };
}

/**
 * The catalog's reading of a code and the reason Marketo sent with it: what it means and
 * the fix, naming the field or value the message held ("Field 'role' not found" → role).
 */
export function explanationOf(
  code: string | undefined,
  reason: string | undefined,
  leadFix?: string,
) {
  if (code === undefined || code === "200") return null;
  const own = ownCode(code);
  if (own) {
    // Postout's own code: the lead's fix names its field and value; the general one otherwise.
    return {
      code,
      known: true as const,
      level: "postout",
      recovery: own.recovery,
      meaning: own.meaning,
      fix: leadFix ?? own.fix,
      values: {},
    };
  }
  const explained = explainCode(code, reason ?? "");
  if (!explained.entry)
    return { code, known: false as const, meaning: null, fix: null, values: {} };
  return {
    code,
    known: true as const,
    level: explained.entry.level,
    recovery: explained.entry.recovery,
    meaning: meaningFor(explained.entry, explained.values),
    fix: fixFor(explained.entry, explained.values),
    values: explained.values,
  };
}
