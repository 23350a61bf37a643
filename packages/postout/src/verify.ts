import { type FoundCreate, findCreated, isMarketoError, lookupKey } from "@postout/marketo";
import { attemptRow, type Sent } from "./attempt-row.ts";
import type { AtStep, DeliveryContext } from "./delivery.ts";
import { activityOf } from "./follow-ups.ts";
import { creates, markerOf } from "./lead-step.ts";
import { retryOrGiveUp } from "./outcome.ts";
import {
  endpointPath,
  leadFields,
  lookupFieldOf,
  type Route,
  requestContent,
  stepEndpoint,
} from "./route.ts";
import { VERIFY_FIX } from "./step-result.ts";
import type { ClaimedLead, OnWire, Step } from "./store/store.ts";

/**
 * Leads with a wire mark: a call that may have put a step of theirs into Marketo went out and
 * its answer was never recorded (the process died, or the answer was lost). Each is settled by
 * what Marketo can prove, per step:
 * - the lead step of an upsert (createOrUpdate, updateOnly), a static list add and a custom
 *   object upsert are sent again: a second time changes nothing;
 * - a Push Lead writes a "Push Lead to Marketo" activity (and may fire the program's
 *   campaigns): it is looked for on the lead with the lookup value, attributed to the program,
 *   dated after the call went out. Found: delivered. Not found: sent again;
 * - a createOnly or createDuplicate lead is looked for (findCreated): a lead with the lookup
 *   value we sent, created after the call went out, with the fields we sent, not attributed to
 *   another lead of ours. Found: delivered with that id. Not found: sent again. A lead
 *   without a lookup value cannot be looked for: a person decides;
 * - a custom activity is looked for among the lead's activities of its type, by its date (the
 *   lead's acceptance time, see activityOf) and primary value.
 * Lookups wait until Marketo has surely finished the call (`settleMs` after it went out).
 */
export interface VerifyOptions {
  /**
   * How long after a call went out Marketo has surely carried it out or dropped it: a lost
   * create is only looked for after that, so a call still running is not missed.
   * @default 60_000
   */
  readonly settleMs: number;
  /**
   * How far Marketo's clock may lag ours when comparing its createdAt with the call's time.
   * @default 5_000
   */
  readonly skewMs: number;
}

export const DEFAULT_VERIFY: VerifyOptions = { settleMs: 60_000, skewMs: 5_000 };

/** A marked lead, settled: a row to record (`sent`), or the step to send it at again. */
export interface Verified {
  readonly at: AtStep;
  readonly step: Step;
  readonly sent?: Sent;
}

/** Code of a lead whose delivery Marketo cannot prove or disprove: a person decides. */
export const UNCERTAIN = "uncertain";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function atStep(lead: ClaimedLead): AtStep {
  return { lead, attempts: lead.attempts, marketoId: lead.marketoId };
}

export async function verifyOnWire(
  ctx: DeliveryContext,
  route: Route,
  leads: readonly ClaimedLead[],
): Promise<Verified[]> {
  const out: Verified[] = [];
  const lookups: ClaimedLead[] = [];
  const activities: ClaimedLead[] = [];
  const now = ctx.now();
  for (const lead of leads) {
    const wire = lead.onWire as OnWire;
    const needsLook =
      (wire.step === "lead" && (creates(route) || route.endpoint === "pushLeads")) ||
      (wire.step === "activity" && route.activity);
    if (!needsLook) {
      out.push({ at: atStep(lead), step: wire.step });
    } else if (now < wire.at + ctx.verify.settleMs) {
      out.push({ at: atStep(lead), step: wire.step, sent: waiting(ctx, route, lead, wire, now) });
    } else if (wire.step === "lead") lookups.push(lead);
    else activities.push(lead);
  }
  if (lookups.length > 0) {
    out.push(
      ...(await (route.endpoint === "pushLeads"
        ? verifyPushes(ctx, route, lookups)
        : verifyCreates(ctx, route, lookups))),
    );
  }
  if (activities.length > 0) out.push(...(await verifyActivities(ctx, route, activities)));
  return out;
}

/** The row of a lead whose call may still be running in Marketo: looked for once it surely is not. */
function waiting(
  ctx: DeliveryContext,
  route: Route,
  lead: ClaimedLead,
  wire: OnWire,
  now: number,
): Sent {
  const due = wire.at + ctx.verify.settleMs;
  return attemptRow(
    {
      leadId: lead.id,
      step: wire.step,
      at: now,
      endpoint: stepEndpoint(route, wire.step),
      request: requestContent(route, lead.input),
      response: undefined,
      requestId: undefined,
      durationMs: 0,
      uncertain: true,
    },
    {
      status: "retrying",
      statusCode: UNCERTAIN,
      reason: `A call for this lead (${wire.step} step) went out at ${iso(wire.at)} and its answer was never read; Postout looks for it in Marketo at ${iso(due)}, when Marketo has surely finished it.`,
      fix: VERIFY_FIX,
      nextAt: due,
    },
  );
}

/** The row of a lead whose interrupted call Marketo proves was carried out: that step is done. */
function proven(
  lead: ClaimedLead,
  step: Step,
  at: number,
  lookup: { readonly endpoint: string; readonly request: unknown; readonly response: unknown },
  reason: string,
  marketoId: number | undefined,
): Verified {
  return {
    at: atStep(lead),
    step,
    sent: attemptRow(
      { leadId: lead.id, step, at, ...lookup, requestId: undefined, durationMs: 0 },
      {
        status: lead.test ? "test" : "delivered",
        statusCode: "200",
        reason,
        fix: undefined,
        ...(marketoId === undefined ? {} : { marketoId }),
      },
    ),
  };
}

/** A lead Marketo cannot prove or disprove: it goes to a person, never resent, never marked delivered. */
function toPerson(lead: ClaimedLead, route: Route, at: number, reason: string, fix: string): Sent {
  return attemptRow(
    {
      leadId: lead.id,
      step: "lead",
      at,
      endpoint: endpointPath(route),
      request: requestContent(route, lead.input),
      response: undefined,
      requestId: undefined,
      durationMs: 0,
    },
    { status: "needs_fix", statusCode: UNCERTAIN, reason, fix },
  );
}

/** The lookup failed (a 606, a network failure …): each lead tries again later, its mark kept. */
function lookupFailed(
  ctx: DeliveryContext,
  leads: readonly ClaimedLead[],
  step: Step,
  error: unknown,
  lookup: { readonly endpoint: string; readonly request: unknown },
  at: number,
): Verified[] {
  const code = isMarketoError(error) ? error.code : "internal_error";
  const text = `Looking for an interrupted call's ${step} step in Marketo failed: ${error instanceof Error ? error.message : String(error)}`;
  return leads.map((lead) => ({
    at: atStep(lead),
    step,
    sent: attemptRow(
      {
        leadId: lead.id,
        step,
        at,
        ...lookup,
        response: undefined,
        requestId: isMarketoError(error) ? error.requestId : undefined,
        durationMs: 0,
        uncertain: true,
      },
      retryOrGiveUp(
        code,
        text,
        "Postout looks again later. If it gives up, look the lead up in Marketo before reposting it.",
        lead.attempts + 1,
        at,
        ctx.policy,
      ),
    ),
  }));
}

async function verifyCreates(
  ctx: DeliveryContext,
  route: Route,
  leads: readonly ClaimedLead[],
): Promise<Verified[]> {
  const field = lookupFieldOf(route);
  const at = ctx.now();
  const out: Verified[] = [];
  const keyed: ClaimedLead[] = [];
  for (const lead of leads) {
    if (lookupKey(lead.input[field]) !== undefined) keyed.push(lead);
    else {
      // Nothing to look it up by, and nothing for Marketo to match on either: a createOnly
      // without a lookup value creates again just as a createDuplicate does.
      const wire = lead.onWire as OnWire;
      out.push({
        at: atStep(lead),
        step: "lead",
        sent: toPerson(
          lead,
          route,
          at,
          `A ${route.endpoint === "syncLeads" ? route.action : "create"} call for this lead went out at ${iso(wire.at)} and its answer was never read. The lead has no ${field}, so Marketo cannot be asked whether the call created it; sending it again could create it twice.`,
          `Look in Marketo for a lead created around ${iso(wire.at)} with this lead's fields. If there is none, repost it; if there is one, leave it.`,
        ),
      });
    }
  }
  if (keyed.length === 0) return out;
  const request = {
    filterType: field,
    filterValues: keyed.map((l) => l.input[field]),
  };
  const endpoint = "/rest/v1/leads.json?_method=GET";
  let found: (FoundCreate | undefined)[];
  try {
    found = await findCreated(
      ctx.client,
      field,
      keyed.map((lead) => ({
        input: leadFields(route, lead.input),
        sentAt: (lead.onWire as OnWire).at,
        ...(ctx.markerField === undefined
          ? {}
          : { marker: { field: ctx.markerField, value: markerOf(lead) } }),
      })),
      {
        skewMs: ctx.verify.skewMs,
        taken: async (ids) => {
          const taken = await ctx.store.attributedIds(ctx.destination, ids);
          for (const id of ctx.attributed.leads) taken.add(id);
          return taken;
        },
      },
    );
  } catch (error) {
    return [...out, ...lookupFailed(ctx, keyed, "lead", error, { endpoint, request }, at)];
  }
  keyed.forEach((lead, i) => {
    const created = found[i];
    if (!created) {
      // No lead proves the call ran: it did not create one, and sending it now is the only send.
      out.push({ at: atStep(lead), step: "lead" });
      return;
    }
    const wire = lead.onWire as OnWire;
    ctx.attributed.leads.add(created.id);
    out.push(
      proven(
        lead,
        "lead",
        at,
        {
          endpoint,
          request: { filterType: field, filterValues: [lead.input[field]] },
          response: { success: true, result: [{ id: created.id, createdAt: created.createdAt }] },
        },
        ctx.markerField === undefined
          ? `created by the interrupted call: lead ${created.id} has this ${field} and the fields sent, and was created at ${created.createdAt}, after the call went out at ${iso(wire.at)}`
          : `created by the interrupted call: lead ${created.id} holds Postout's id for this lead in ${ctx.markerField}`,
        created.id,
      ),
    );
  });
  return out;
}

/** Marketo's activity type of "Push Lead to Marketo": its primary value is the program's name. */
export const PUSH_LEAD_ACTIVITY = 145;

async function verifyPushes(
  ctx: DeliveryContext,
  route: Route & { readonly endpoint: "pushLeads" },
  leads: readonly ClaimedLead[],
): Promise<Verified[]> {
  const field = lookupFieldOf(route);
  const at = ctx.now();
  const keyed = leads.filter((l) => lookupKey(l.input[field]) !== undefined);
  // Nothing to find the lead by: Marketo refuses such a push, so sending it again is harmless.
  const out: Verified[] = leads
    .filter((l) => lookupKey(l.input[field]) === undefined)
    .map((lead) => ({ at: atStep(lead), step: "lead" }));
  if (keyed.length === 0) return out;
  const endpoint = "/rest/v1/activities.json";
  const request = { filterType: field, filterValues: keyed.map((l) => l.input[field]) };
  // The pushes Marketo recorded, by lead key: the lead's id and each push's date (seconds).
  const pushes = new Map<string, { id: number; activity: number; date: number }[]>();
  try {
    const idsByKey = new Map<number, string>();
    for await (const page of ctx.client.getLeadsByFilter({
      filterType: field,
      filterValues: [...new Set(request.filterValues as (string | number)[])],
      fields: ["id", field],
    })) {
      for (const row of page) {
        const key = lookupKey(row[field]);
        if (key !== undefined && typeof row.id === "number") idsByKey.set(row.id, key);
      }
    }
    const since = Math.min(...keyed.map((l) => (l.onWire as OnWire).at)) - ctx.verify.skewMs;
    if (idsByKey.size > 0) {
      for await (const page of ctx.client.getLeadActivities({
        activityTypeIds: [PUSH_LEAD_ACTIVITY],
        leadIds: [...idsByKey.keys()],
        since: new Date(since),
      })) {
        for (const activity of page) {
          const key = idsByKey.get(activity.leadId);
          if (key === undefined || activity.primaryAttributeValue !== route.programName) continue;
          if (ctx.attributed.activities.has(activity.id)) continue;
          const list = pushes.get(key) ?? [];
          list.push({
            id: activity.leadId,
            activity: activity.id,
            date: Date.parse(activity.activityDate),
          });
          pushes.set(key, list);
        }
      }
    }
  } catch (error) {
    return [...out, ...lookupFailed(ctx, keyed, "lead", error, { endpoint, request }, at)];
  }
  // Leads merged into one record went out in one call and made one push: one settles them all.
  const settledCalls = new Map<string, number>();
  for (const lead of keyed) {
    const wire = lead.onWire as OnWire;
    const key = lookupKey(lead.input[field]) as string;
    const call = `${key}|${wire.at}`;
    let id = settledCalls.get(call);
    if (id === undefined) {
      const earliest = Math.floor(wire.at / 1000) * 1000 - ctx.verify.skewMs;
      const list = pushes.get(key) ?? [];
      const index = list.findIndex((p) => p.date >= earliest);
      const push = list[index];
      if (push) {
        id = push.id;
        ctx.attributed.activities.add(push.activity);
        list.splice(index, 1);
        settledCalls.set(call, id);
      }
    }
    if (id === undefined) {
      out.push({ at: atStep(lead), step: "lead" });
      continue;
    }
    out.push(
      proven(
        lead,
        "lead",
        at,
        {
          endpoint,
          request: { activityTypeIds: [PUSH_LEAD_ACTIVITY], leadIds: [id] },
          response: {
            success: true,
            result: [{ leadId: id, primaryAttributeValue: route.programName }],
          },
        },
        `pushed by the interrupted call: lead ${id} has a Push Lead activity for '${route.programName}' dated after the call went out at ${iso(wire.at)}`,
        id,
      ),
    );
  }
  return out;
}

async function verifyActivities(
  ctx: DeliveryContext,
  route: Route,
  leads: readonly ClaimedLead[],
): Promise<Verified[]> {
  const step = route.activity as NonNullable<Route["activity"]>;
  const at = ctx.now();
  // Activities are found by their date, which is the lead's acceptance time (activityOf).
  const since = Math.min(...leads.map((l) => l.acceptedAt)) - ctx.verify.skewMs;
  const leadIds = [...new Set(leads.map((l) => l.marketoId as number))];
  const endpoint = "/rest/v1/activities.json";
  const request = { activityTypeIds: [step.activityTypeId], leadIds, sinceDatetime: iso(since) };
  // Activities present, by lead, date (to the second), primary value and attribute values (Marketo
  // names attributes by display name, so their values are compared, not their names).
  const present = new Map<string, number[]>();
  const keyOf = (
    leadId: unknown,
    date: unknown,
    value: unknown,
    attributes: readonly { readonly value: unknown }[],
  ) =>
    JSON.stringify([
      leadId,
      Math.floor(Date.parse(String(date)) / 1000),
      String(value),
      attributes
        .map((a) => a.value)
        .filter((v) => v !== undefined && v !== null && v !== "")
        .map(String)
        .sort(),
    ]);
  try {
    for await (const page of ctx.client.getLeadActivities({
      activityTypeIds: [step.activityTypeId],
      leadIds,
      since: new Date(since),
    })) {
      for (const activity of page) {
        if (ctx.attributed.activities.has(activity.id)) continue;
        const key = keyOf(
          activity.leadId,
          activity.activityDate,
          activity.primaryAttributeValue,
          activity.attributes,
        );
        present.set(key, [...(present.get(key) ?? []), activity.id]);
      }
    }
  } catch (error) {
    return lookupFailed(ctx, leads, "activity", error, { endpoint, request }, at);
  }
  return leads.map((lead) => {
    const mine = activityOf(step, atStep(lead));
    const key = keyOf(mine.leadId, mine.activityDate, mine.primaryAttributeValue, mine.attributes);
    const found = present.get(key)?.shift();
    if (found === undefined) return { at: atStep(lead), step: "activity" as const };
    // Each activity found settles one lead at most.
    ctx.attributed.activities.add(found);
    const wire = lead.onWire as OnWire;
    return proven(
      lead,
      "activity",
      at,
      { endpoint, request, response: { success: true, result: [mine] } },
      `activity ${step.activityTypeId} added by the interrupted call (found on lead ${mine.leadId} dated ${mine.activityDate}; the call went out at ${iso(wire.at)})`,
      lead.marketoId,
    );
  });
}
