import { type CodeEntry, fixFor, lookupCode } from "@postout/marketo";
import { distance } from "fastest-levenshtein";
import { coerce } from "./coerce.ts";
import type { Lead, LeadValue } from "./map-lead.ts";
import { type Problem, shown } from "./problem.ts";
import type { LeadSchema, PreflightRoute } from "./schema.ts";

export interface PreflightResult {
  /** The lead with its values coerced to the field types (see `coerce`); send this one. */
  readonly lead: Lead;
  /** Empty when Marketo should accept the lead. */
  readonly problems: readonly Problem[];
}

function entry(code: string): CodeEntry {
  const found = lookupCode(code);
  if (found === undefined) throw new Error(`code ${code} is missing from the catalog`);
  return found;
}

/** Marketo's message template with its `%s` filled in order ("Field '%s' not found" → "Field 'role' not found"). */
function message(code: CodeEntry, ...values: string[]): string {
  let i = 0;
  return code.message.replace(/%s/g, () => values[i++] ?? "");
}

function isBlank(value: LeadValue | null | undefined): boolean {
  return (
    value === undefined || value === null || (typeof value === "string" && value.trim() === "")
  );
}

/** A known field whose name differs only by case, offered as "did you mean". */
/**
 * The schema's fields nearest to a name it does not have, nearest first: the same name in
 * another case, then names within a few edits, then names that contain it or are in it.
 */
function nearNames(schema: LeadSchema, name: string, count = 3): string[] {
  const lower = name.toLowerCase();
  const scored: [number, string][] = [];
  for (const field of schema.fields.keys()) {
    const candidate = field.toLowerCase();
    if (candidate === lower) return [field];
    const edits = distance(lower, candidate);
    if (edits <= Math.max(1, Math.floor(lower.length / 3))) scored.push([edits, field]);
    else if (lower.length >= 3 && (candidate.includes(lower) || lower.includes(candidate)))
      scored.push([lower.length + edits, field]);
  }
  return scored
    .sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]))
    .slice(0, count)
    .map(([, field]) => field);
}

function didYouMean(name: string, near: readonly string[]): string {
  const [first] = near;
  if (first === undefined) return "";
  if (first.toLowerCase() === name.toLowerCase())
    return ` (Did you mean '${first}'? Field names are case-sensitive.)`;
  return ` (Nearest fields of this instance: ${near.map((n) => `'${n}'`).join(", ")}.)`;
}

/**
 * Checks a mapped lead against the destination's describe schema before a call is spent, and
 * answers as Marketo would, with Marketo's code and wording and the catalog's fix:
 * - 1006 `Field 'role' not found`: a field the schema does not have;
 * - 1001 `Invalid value 'twelve'. Required of type 'integer'`: a value that does not fit the
 *   field's type after safe coercion (`coerce`);
 * - 1002 `Missing value for the required parameter 'email'`: the route's lookupField (which
 *   Sync Leads needs in every record, §4) or a required field is absent; 701 `email cannot be
 *   blank` when it is present but empty;
 * - 1003 `Invalid data`: `id` sent with createOnly (§4).
 * Two checks have no documented Marketo code, so they carry Postout codes: `too-long` (a string
 * longer than the field's `length`: refused, not truncated, because a cut value is data lost
 * without anyone noticing) and `read-only` (a field with `updateable: false`, e.g. createdAt;
 * the lookup field is exempt, so `id` works with updateOnly).
 */
export function preflight(
  lead: Lead,
  schema: LeadSchema,
  route: PreflightRoute = {},
): PreflightResult {
  const problems: Problem[] = [];
  const out: Lead = {};
  const action = route.action ?? "createOrUpdate";
  const lookupField = route.lookupField ?? "email";

  for (const name of Object.keys(lead)) {
    const value = lead[name] as LeadValue;
    const field = schema.fields.get(name);
    if (field === undefined) {
      const code = entry("1006");
      const near = nearNames(schema, name);
      problems.push({
        code: code.code,
        field: name,
        value: shown(value),
        message: message(code, name),
        fix: fixFor(code, { field: name }) + didYouMean(name, near),
      });
      continue;
    }
    if (name === "id" && action === "createOnly") {
      const code = entry("1003");
      problems.push({
        code: code.code,
        field: name,
        value: shown(value),
        message: message(code),
        fix: "Marketo sets id itself: leave id out of leads created with createOnly (use updateOnly to update by id), then repost.",
      });
      continue;
    }
    if (!field.updateable && name !== lookupField) {
      problems.push({
        code: "read-only",
        field: name,
        value: shown(value),
        message: `Field '${name}' is read-only in Marketo`,
        fix: `Marketo manages ${name} itself: remove it from the field map (or its column from the file), then repost.`,
      });
      continue;
    }
    if (isBlank(value)) {
      put(out, name, value);
      continue;
    }
    const fitted = coerce(value, field.dataType);
    if (!fitted.ok) {
      const code = entry("1001");
      const text = shown(value);
      problems.push({
        code: code.code,
        field: name,
        value: text,
        message: message(code, text, field.dataType),
        fix: `Field '${name}': ${fixFor(code, { value: text, type: field.dataType })}`,
      });
      continue;
    }
    if (typeof fitted.value === "string" && field.length !== undefined) {
      const length = [...fitted.value].length;
      if (length > field.length) {
        problems.push({
          code: "too-long",
          field: name,
          value: shown(fitted.value),
          message: `Value of '${name}' is ${length} characters; the field holds at most ${field.length}`,
          fix: `Shorten the value of ${name} in the source data (or map it to a longer field, e.g. a text area), then repost.`,
        });
        continue;
      }
    }
    put(out, name, fitted.value);
  }

  const required = [lookupField, ...(route.required ?? [])];
  for (const name of new Set(required)) {
    if (action === "createDuplicate" && name === lookupField && !route.required?.includes(name))
      continue;
    if (!Object.hasOwn(lead, name)) {
      const code = entry("1002");
      problems.push({
        code: code.code,
        field: name,
        message: message(code, name),
        fix: fixFor(code, { field: name }),
      });
    } else if (isBlank(lead[name])) {
      const code = entry("701");
      problems.push({
        code: code.code,
        field: name,
        value: "",
        message: message(code, name),
        fix: fixFor(code, { field: name }),
      });
    }
  }
  return { lead: out, problems };
}

function put(lead: Lead, field: string, value: LeadValue): void {
  Object.defineProperty(lead, field, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
