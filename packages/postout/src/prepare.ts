import type { LeadSchema } from "@postout/marketo";
import type { Prepared } from "./gateway.ts";
import type { FieldValue } from "./intake/items.ts";
import type { FieldMap } from "./mapping/field-map.ts";
import { mapLead } from "./mapping/map-lead.ts";
import type { Problem } from "./mapping/problem.ts";
import type { Route } from "./route.ts";

/** Checks a mapped lead against the destination's schema before a call is spent. */
export type Preflight = (
  lead: Readonly<Record<string, unknown>>,
  schema: LeadSchema,
  route: Route,
) => readonly Problem[];

function refusedBy(problems: readonly Problem[]) {
  const [first] = problems;
  const reason = problems.map((p) => p.message).join("; ");
  return { code: first?.code ?? "mapping", reason, fix: problems.map((p) => p.fix).join(" ") };
}

/**
 * The intake step between a source row and the store: the field map, then preflight against
 * the destination's describe schema. A lead that fails either is stored as needs_fix with the
 * Marketo code it would have earned (1006, 1001, 1002 …) and the fix naming the field.
 */
export function preparer(options: {
  readonly map: FieldMap;
  readonly route: Route;
  readonly schema: LeadSchema | undefined;
  readonly preflight: Preflight | undefined;
}): (raw: Readonly<Record<string, unknown>>) => Prepared {
  return (raw) => {
    const mapped = mapLead(raw as Readonly<Record<string, FieldValue>>, options.map);
    if (!mapped.ok) return { refused: refusedBy(mapped.problems) };
    if (options.schema && options.preflight) {
      const problems = options.preflight(mapped.lead, options.schema, options.route);
      if (problems.length > 0) return { refused: refusedBy(problems), input: mapped.lead };
    }
    return { input: mapped.lead };
  };
}
