import type { FieldValue } from "../intake/items.ts";
import { isAscii } from "./coerce.ts";
import { type FieldMap, IDENTITY_MAP } from "./field-map.ts";
import { type Problem, shown } from "./problem.ts";
import { applyValueMapper } from "./value-mappers.ts";

/** A value Marketo receives. */
export type LeadValue = string | number | boolean;
/** A lead as sent to Marketo: REST field name → value. */
export type Lead = Record<string, LeadValue>;

export type MapResult =
  | { readonly ok: true; readonly lead: Lead }
  | { readonly ok: false; readonly problems: readonly Problem[] };

function put(lead: Lead, field: string, value: LeadValue): void {
  // Defined, not assigned, so a field named __proto__ stays a field.
  Object.defineProperty(lead, field, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Normalises an email: trimmed, domain lowercased (the local part is left as it is: it may be
 * case-sensitive). A non-ASCII email is a problem, never silently changed — Marketo allows only
 * ASCII in email (docs/marketo.md §4).
 */
export function normalizeEmail(value: string): { value: string } | { problem: Problem } {
  const email = value.trim();
  const at = email.lastIndexOf("@");
  if (!isAscii(email)) {
    // An international domain has an ASCII form (xn--…); a non-ASCII local part has none.
    const inLocalPart = !isAscii(at === -1 ? email : email.slice(0, at));
    return {
      problem: {
        code: "email-not-ascii",
        field: "email",
        value: email,
        message: `email: '${shown(email)}' has non-ASCII characters; Marketo allows only ASCII in email`,
        fix: inLocalPart
          ? "The part before the @ has non-ASCII characters, which Marketo cannot store: correct the address in the source data (or leave this person out), then repost."
          : "Write the domain in its ASCII form (xn--…, as a browser shows it) in the source data, then repost.",
      },
    };
  }
  return { value: at === -1 ? email : email.slice(0, at) + email.slice(at).toLowerCase() };
}

/**
 * Turns one source row into a Marketo lead with a field map:
 * 1. each column goes to its field in `map.fields`; a column not named there is kept under its
 *    own name, dropped, or a problem (`map.unmapped`);
 * 2. strings are trimmed; an empty string or null is left out (not sent), so a blank cell never
 *    clears a Marketo field;
 * 3. a field with a value mapper (`map.values`) gets its mapped value, the default, or a
 *    problem; `email` is normalised ({@link normalizeEmail});
 * 4. constants are set last (trimmed, blank ones left out) and win over a kept column of the
 *    same name;
 * 5. two columns mapped to one field with different values is a problem.
 * Never throws; never sends a field the map does not allow (mapped targets, constants, and with
 * `unmapped: "keep"` the source column names).
 */
export function mapLead(
  row: Readonly<Record<string, FieldValue>>,
  map: FieldMap = IDENTITY_MAP,
): MapResult {
  const lead: Lead = {};
  const from = new Map<string, string>();
  const problems: Problem[] = [];
  for (const column of Object.keys(row)) {
    const raw = row[column];
    let field: string;
    if (Object.hasOwn(map.fields, column)) field = map.fields[column] as string;
    else if (map.unmapped === "keep") field = column;
    else if (map.unmapped === "drop") continue;
    else {
      if (raw === null || raw === undefined || (typeof raw === "string" && raw.trim() === ""))
        continue;
      problems.push({
        code: "unmapped-column",
        field: column,
        value: shown(raw),
        message: `column '${shown(column)}' is not in the field map`,
        fix: `Map '${shown(column)}' to a Marketo field in fields, or set unmapped to "drop" to leave such columns out; then repost.`,
      });
      continue;
    }
    if (Object.hasOwn(map.constants, field)) continue;
    let value: LeadValue;
    if (raw === null || raw === undefined) continue;
    if (typeof raw === "string") {
      const trimmed = raw.trim();
      if (trimmed === "") continue;
      value = trimmed;
    } else if (typeof raw === "number" && !Number.isFinite(raw)) continue;
    else value = raw;
    if (Object.hasOwn(map.values, field)) {
      const mapped = applyValueMapper(
        field,
        String(value),
        map.values[field] as NonNullable<FieldMap["values"][string]>,
      );
      if ("problem" in mapped) {
        problems.push(mapped.problem);
        continue;
      }
      if (mapped.value.trim() === "") continue;
      value = mapped.value.trim();
    }
    if (field === "email" && typeof value === "string") {
      const email = normalizeEmail(value);
      if ("problem" in email) {
        problems.push(email.problem);
        continue;
      }
      value = email.value;
    }
    if (Object.hasOwn(lead, field)) {
      if (lead[field] !== value) {
        problems.push({
          code: "conflicting-values",
          field,
          value: shown(value),
          message: `${field}: columns '${from.get(field)}' and '${column}' give different values ('${shown(lead[field])}', '${shown(value)}')`,
          fix: `Map only one column to ${field} in the field map, or make the columns agree; then repost.`,
        });
      }
      continue;
    }
    from.set(field, column);
    put(lead, field, value);
  }
  for (const field of Object.keys(map.constants)) {
    // Constants get the same trimming and email rule as values, so mapping stays idempotent.
    const constant = map.constants[field] as LeadValue;
    if (typeof constant !== "string") put(lead, field, constant);
    else if (constant.trim() !== "") {
      const email = field === "email" ? normalizeEmail(constant) : { value: constant.trim() };
      if ("problem" in email) problems.push(email.problem);
      else put(lead, field, email.value);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, lead };
}
