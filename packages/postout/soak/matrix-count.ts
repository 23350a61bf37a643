/**
 * Counting one cell of the crash matrix (crash-matrix.ts): what Marketo holds and what the
 * store says, per source lead. Pure: the records and the rows come in, the figures go out.
 *
 * Words:
 * - **own lead**: a Marketo lead carrying a source lead's firstName (each source lead has a
 *   distinct one). Delivered once means exactly one own lead, and the store has its id.
 * - **lost**: a source lead not in front of a person (needs_fix) and not wholly in Marketo: no
 *   own lead, or a follow-up step (list, custom object, activity) missing for a delivered lead.
 * - **duplicated**: two own leads, or two custom object records or activities for one lead.
 * - **mixed**: a Marketo lead whose fields come from two source leads, or a follow-up record
 *   of one source lead on another's Marketo lead.
 * - **wrong**: anything else a user would notice: a delivered lead with another id than its own
 *   lead's, an old lead taken for a create, a needs_fix code other than the route's, a list
 *   member that is not a delivered lead.
 */

/** One row of the leads file, by its index. */
export interface SourceLead {
  readonly index: number;
  readonly fields: Readonly<Record<string, string | number>>;
  /** The id of a lead with this email that existed in Marketo before the post. */
  readonly existingId?: number;
}

/** What becomes of a source lead whose email already exists in Marketo. */
export type ExistingOutcome = "updated" | "refused" | "new";

export interface CellExpectation {
  /** Leads the post creates must be created after the cell started (and not be an old lead). */
  readonly creates: boolean;
  /** For leads with an `existingId`. */
  readonly existing?: ExistingOutcome;
  /** Whether a lead may end `needs_fix` with code `uncertain` (createDuplicate without email). */
  readonly uncertainAllowed: boolean;
  readonly list?: string;
  readonly customObject?: { readonly apiName: string; readonly keyField: string };
  readonly activity?: { readonly typeId: number; readonly primaryField: string };
  /**
   * The activity type Marketo writes for each push (Push Lead to Marketo): at least one per
   * delivered lead; more are a resent push, counted as `repeated` (a push is looked for by its activity before it is resent, so none is expected).
   */
  readonly pushActivityType?: number;
  /** Epoch ms the cell started, after any pre-existing leads were made. */
  readonly startedAt: number;
}

export interface MarketoLead {
  readonly id: number;
  readonly createdAt: string;
  readonly [field: string]: unknown;
}

export interface MarketoActivity {
  readonly id: number;
  readonly leadId: number;
  readonly activityTypeId: number;
  readonly primaryAttributeValue: unknown;
}

/** What `GET /_sandbox/records` gave, every page joined. */
export interface MarketoRecords {
  readonly leads: readonly MarketoLead[];
  readonly lists: Readonly<Record<string, readonly number[]>>;
  readonly customObjects: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  readonly activities: readonly MarketoActivity[];
}

/** A row of the store's leads table. */
export interface StoreLead {
  readonly id: number;
  readonly input: Readonly<Record<string, unknown>>;
  readonly status: string;
  readonly lastCode: string | null;
  readonly marketoId: number | null;
}

export interface CellCount {
  readonly leads: number;
  /** In Marketo exactly once (with every follow-up) and delivered in the store with that id. */
  readonly once: number;
  /** needs_fix in the store, by code. */
  readonly needsPerson: Readonly<Record<string, number>>;
  /** Of those, the ones whose own lead is in Marketo (once: more is counted as duplicated). */
  readonly needsPersonInMarketo: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly mixed: number;
  readonly wrong: number;
  /** Delivered leads with more than one Push Lead activity: measured, not a failure. */
  readonly repeated: number;
  /** What went wrong, one line per finding, with the source lead's index. */
  readonly problems: readonly string[];
  /** Store ids of the source leads with a problem, for their attempts. */
  readonly problemLeads: readonly number[];
}

/** The fields that tell source leads apart: each holds a value unique to its lead. */
const IDENTITY = ["email", "firstName", "lastName", "company"] as const;

const norm = (v: unknown) => String(v).toLowerCase();

export function countCell(
  sources: readonly SourceLead[],
  marketo: MarketoRecords,
  store: readonly StoreLead[],
  expect: CellExpectation,
): CellCount {
  const problems: string[] = [];
  const lost = new Set<number>();
  const duplicated = new Set<number>();
  const wrong = new Set<number>();
  const once = new Set<number>();
  const needsPerson: Record<string, number> = {};
  let needsPersonInMarketo = 0;
  let mixed = 0;
  let repeated = 0;
  const problemLeads = new Set<number>();
  const flag = (set: Set<number>, i: number, text: string, storeId?: number) => {
    set.add(i);
    problems.push(`lead ${i}: ${text}`);
    if (storeId !== undefined) problemLeads.add(storeId);
  };

  // Which source lead each identity value belongs to.
  const owner = new Map<string, number>();
  for (const s of sources) {
    for (const f of IDENTITY) {
      if (s.fields[f] !== undefined) owner.set(`${f}=${norm(s.fields[f])}`, s.index);
    }
  }
  const ownersOf = (record: Readonly<Record<string, unknown>>) => {
    const found = new Set<number>();
    for (const f of IDENTITY) {
      const i = record[f] === undefined ? undefined : owner.get(`${f}=${norm(record[f])}`);
      if (i !== undefined) found.add(i);
    }
    return found;
  };

  const own = new Map<number, MarketoLead[]>();
  const byFirstName = new Map(sources.map((s) => [norm(s.fields.firstName), s.index]));
  const leadOwner = new Map<number, number>();
  for (const lead of marketo.leads) {
    const owners = ownersOf(lead);
    if (owners.size > 1) {
      mixed++;
      problems.push(`Marketo lead ${lead.id} mixes leads ${[...owners].join(", ")}`);
    }
    const i = lead.firstName === undefined ? undefined : byFirstName.get(norm(lead.firstName));
    if (i !== undefined) {
      own.set(i, [...(own.get(i) ?? []), lead]);
      leadOwner.set(lead.id, i);
    }
  }

  const rows = new Map<number, StoreLead[]>();
  for (const row of store) {
    const i = byFirstName.get(norm(row.input.firstName));
    if (i === undefined) problems.push(`store lead ${row.id} is none of the source leads`);
    else rows.set(i, [...(rows.get(i) ?? []), row]);
  }

  const listMembers = new Set(expect.list === undefined ? [] : (marketo.lists[expect.list] ?? []));
  const objects = expect.customObject
    ? (marketo.customObjects[expect.customObject.apiName] ?? [])
    : [];
  const activities = expect.activity
    ? marketo.activities.filter((a) => a.activityTypeId === expect.activity?.typeId)
    : [];
  const deliveredIds = new Set<number>();
  const startSecond = Math.floor(expect.startedAt / 1000) * 1000;

  for (const s of sources) {
    const i = s.index;
    const mine = own.get(i) ?? [];
    const held = rows.get(i) ?? [];
    const row = held[0];
    if (held.length !== 1) flag(wrong, i, `the store holds ${held.length} rows for it`);
    if (mine.length > 1) {
      flag(
        duplicated,
        i,
        `${mine.length} Marketo leads: ${mine.map((l) => l.id).join(", ")}`,
        row?.id,
      );
    }
    if (!row) {
      if (mine.length === 0) flag(lost, i, "neither in Marketo nor in the store");
      continue;
    }
    if (row.status === "needs_fix") {
      const code = row.lastCode ?? "?";
      needsPerson[code] = (needsPerson[code] ?? 0) + 1;
      if (mine.length > 0) needsPersonInMarketo++;
      if (s.existingId !== undefined && expect.existing === "refused") {
        if (code !== "1005") flag(wrong, i, `needs_fix ${code}, expected 1005`, row.id);
        if (mine.length > 0) flag(wrong, i, "refused, yet its fields are in Marketo", row.id);
      } else if (expect.uncertainAllowed && code === "uncertain") {
        // At most once in Marketo: checked above as duplicated.
      } else flag(wrong, i, `needs_fix ${code} (${row.id}), expected delivered`, row.id);
      continue;
    }
    if (mine.length === 0) {
      flag(lost, i, `not in Marketo, store says ${row.status}`, row.id);
      continue;
    }
    if (row.status !== "delivered") {
      flag(wrong, i, `in Marketo, store says ${row.status} (${row.lastCode})`, row.id);
      continue;
    }
    const lead = mine.find((l) => l.id === row.marketoId);
    if (!lead) {
      flag(wrong, i, `delivered as ${row.marketoId}, its Marketo lead is ${mine[0]?.id}`, row.id);
      continue;
    }
    deliveredIds.add(lead.id);
    let whole = mine.length === 1;
    if (s.existingId !== undefined) {
      if (expect.existing === "refused") {
        whole = false;
        flag(wrong, i, `delivered as ${lead.id}, expected needs_fix 1005`, row.id);
      } else if (expect.existing === "updated" && lead.id !== s.existingId) {
        whole = false;
        flag(wrong, i, `delivered as ${lead.id}, expected the existing ${s.existingId}`, row.id);
      } else if (expect.existing === "new" && lead.id === s.existingId) {
        whole = false;
        flag(wrong, i, `took the existing lead ${lead.id} instead of a new one`, row.id);
      }
    }
    const created = s.existingId === undefined || expect.existing === "new";
    if (expect.creates && created && Date.parse(lead.createdAt) < startSecond) {
      whole = false;
      flag(wrong, i, `lead ${lead.id} created ${lead.createdAt}, before the cell`, row.id);
    }
    if (expect.list !== undefined && !listMembers.has(lead.id)) {
      whole = false;
      flag(lost, i, `lead ${lead.id} not in list '${expect.list}'`, row.id);
    }
    const follow = (
      what: string,
      records: readonly { readonly leadId: unknown }[],
      key: string,
    ): void => {
      if (records.length === 0) {
        whole = false;
        flag(lost, i, `no ${what} ${key}`, row.id);
        return;
      }
      if (records.length > 1) {
        whole = false;
        flag(duplicated, i, `${records.length} ${what}s ${key}`, row.id);
      }
      for (const r of records) {
        if (r.leadId === lead.id) continue;
        whole = false;
        const other = leadOwner.get(Number(r.leadId));
        if (other !== undefined) {
          mixed++;
          problems.push(`lead ${i}: ${what} ${key} is on lead ${r.leadId} of lead ${other}`);
          problemLeads.add(row.id);
        } else flag(wrong, i, `${what} ${key} is on lead ${String(r.leadId)}`, row.id);
      }
    };
    if (expect.customObject) {
      const key = s.fields[expect.customObject.keyField];
      follow(
        "custom object",
        objects
          .map((o) => ({ leadId: o.leadId, key: o[expect.customObject?.keyField ?? ""] }))
          .filter((o) => o.key === key),
        String(key),
      );
    }
    if (expect.activity) {
      const key = String(s.fields[expect.activity.primaryField]);
      follow(
        "activity",
        activities.filter((a) => String(a.primaryAttributeValue) === key),
        key,
      );
    }
    if (expect.pushActivityType !== undefined) {
      const pushes = marketo.activities.filter(
        (a) => a.activityTypeId === expect.pushActivityType && a.leadId === lead.id,
      ).length;
      if (pushes === 0) {
        whole = false;
        flag(lost, i, `no Push Lead activity on lead ${lead.id}`, row.id);
      } else if (pushes > 1) repeated++;
    }
    if (whole) once.add(i);
  }
  for (const id of listMembers) {
    if (!deliveredIds.has(id)) problems.push(`list member ${id} is no delivered lead`);
  }
  const extraMembers = [...listMembers].filter((id) => !deliveredIds.has(id)).length;
  return {
    leads: sources.length,
    once: once.size,
    needsPerson,
    needsPersonInMarketo,
    lost: lost.size,
    duplicated: duplicated.size,
    mixed,
    wrong: wrong.size + extraMembers,
    repeated,
    problems,
    problemLeads: [...problemLeads],
  };
}
