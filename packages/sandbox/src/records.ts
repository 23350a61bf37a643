import type { Instance } from "./instance.ts";
import { isoSeconds } from "./schema.ts";

/** `limit` of /_sandbox/records when none is given, and the most it accepts. */
export const recordsLimit = { default: 1000, max: 10_000 } as const;

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name}: a whole number ≥ 0`);
  return n;
}

/**
 * `GET /_sandbox/records`: what the instance holds, for a test that counts what reached
 * Marketo. Leads and list members page together by lead id (`after`), activities by
 * activity id (`activitiesAfter`); `next` says where the following page starts (null when
 * done). Custom object records are cut at `limit` per type; `totals` says how many exist.
 */
export function records(
  instance: Instance,
  query: Record<string, string | undefined>,
): Record<string, unknown> {
  const limit = count(query.limit, "limit", recordsLimit.default);
  if (limit < 1 || limit > recordsLimit.max) throw new TypeError(`limit: 1 to ${recordsLimit.max}`);
  const after = count(query.after, "after", 0);
  const activitiesAfter = count(query.activitiesAfter, "activitiesAfter", 0);

  const page = instance.leads.after(after, limit);
  const last = page.leads.at(-1)?.id ?? after;
  // List members are a subset of the leads: cut at the page's last lead, so never more.
  const cut = page.more ? last : Number.POSITIVE_INFINITY;
  const lists = Object.fromEntries(
    instance.lists.all.map((l) => [
      l.spec.name,
      [...l.members].filter((id) => id > after && id <= cut).sort((a, b) => a - b),
    ]),
  );
  const customObjects = Object.fromEntries(
    [...instance.customObjects].map(([name, t]) => [name, [...t.records.values()].slice(0, limit)]),
  );
  const newer = instance.activities.rows
    .filter((a) => a.id > activitiesAfter)
    .sort((a, b) => a.id - b.id);
  const activities = newer.slice(0, limit).map((a) => ({
    id: a.id,
    leadId: a.leadId,
    activityDate: isoSeconds(a.at),
    activityTypeId: a.activityTypeId,
    ...(a.primaryAttributeValueId === undefined
      ? {}
      : { primaryAttributeValueId: a.primaryAttributeValueId }),
    primaryAttributeValue: a.primaryAttributeValue,
    attributes: a.attributes,
  }));
  return {
    leads: page.leads,
    lists,
    customObjects,
    activities,
    next: {
      after: page.more ? last : null,
      activitiesAfter: newer.length > limit ? (activities.at(-1)?.id ?? null) : null,
    },
    totals: {
      leads: instance.leads.size,
      activitiesWritten: instance.activities.written,
      activitiesKept: instance.activities.rows.length,
      customObjects: Object.fromEntries(
        [...instance.customObjects].map(([name, t]) => [name, t.records.size]),
      ),
    },
  };
}
