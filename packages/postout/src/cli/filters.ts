import { Option } from "commander";
import { LEAD_STATUSES, type LeadFilter, type LeadStatus } from "../store/store.ts";
import { UsageError } from "./io.ts";

export interface FilterOptions {
  readonly status?: string;
  readonly code?: string;
  readonly attemptCode?: string;
  readonly destination?: string;
  readonly program?: string;
  readonly since?: string;
  readonly until?: string;
  readonly email?: string;
}

/** The filter flags shared by `report` and `repost`. */
export function filterOptions(): Option[] {
  return [
    new Option("--status <list>", `lead statuses, comma separated: ${LEAD_STATUSES.join(", ")}`),
    new Option("--code <list>", "last ResponseStatusCode, comma separated (e.g. 1006,606)"),
    new Option(
      "--attempt-code <list>",
      "a code any of the lead's calls got, retried calls included (e.g. 503)",
    ),
    new Option("--destination <name>", "only this destination"),
    new Option("--program <name>", "only leads pushed into this program"),
    new Option(
      "--since <time>",
      "updated at or after (ISO 8601, e.g. 2026-11-23 or 2026-11-23T10:00Z)",
    ),
    new Option("--until <time>", "updated at or before (ISO 8601)"),
    new Option("--email <text>", "email contains this text"),
  ];
}

function time(flag: string, value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new UsageError(
      `--${flag} '${value}' is not an ISO 8601 time (e.g. 2026-11-23 or 2026-11-23T10:00Z)`,
    );
  }
  return ms;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** Reads the filter flags; a wrong value is a usage error that names it. */
export function parseFilter(o: FilterOptions, ids: readonly string[] = []): LeadFilter {
  const status = o.status === undefined ? undefined : list(o.status);
  for (const s of status ?? []) {
    if (!(LEAD_STATUSES as readonly string[]).includes(s)) {
      throw new UsageError(`--status '${s}' is not a status; use ${LEAD_STATUSES.join(", ")}`);
    }
  }
  const codes = (flag: string, value: string | undefined) => {
    const found = value === undefined ? undefined : list(value);
    for (const c of found ?? []) {
      if (!/^[\w-]{1,32}$/.test(c))
        throw new UsageError(`--${flag} '${c}' is not a code (e.g. 1006)`);
    }
    return found;
  };
  const code = codes("code", o.code);
  const attemptCode = codes("attempt-code", o.attemptCode);
  const numericIds = ids.map((id) => {
    const n = Number(id);
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(n))
      throw new UsageError(`'${id}' is not a lead id`);
    return n;
  });
  return {
    ...(numericIds.length > 0 ? { ids: numericIds } : {}),
    ...(status ? { status: status as LeadStatus[] } : {}),
    ...(code ? { code } : {}),
    ...(attemptCode ? { attemptCode } : {}),
    ...(o.destination === undefined ? {} : { destination: o.destination }),
    ...(o.program === undefined ? {} : { program: o.program }),
    ...(o.since === undefined ? {} : { since: time("since", o.since) }),
    ...(o.until === undefined ? {} : { until: time("until", o.until) }),
    ...(o.email === undefined ? {} : { email: o.email }),
  };
}

/** True when the filter narrows anything down (repost refuses to act on every lead by accident). */
export function isNarrowed(filter: LeadFilter): boolean {
  return Object.keys(filter).length > 0;
}
