import type { Destination, Issue } from "./types.ts";

/** The fields of the "Connect a Marketo instance" form, as typed (the secret is kept apart). */
export interface DestinationFields {
  readonly name: string;
  readonly baseUrl: string;
  readonly clientId: string;
  readonly callsPer20s: string;
  readonly concurrency: string;
  readonly dailyBudget: string;
  readonly markerField: string;
}

/** A form field's name, or the secret's, as the API names them in its issues. */
export type FieldName = keyof DestinationFields | "clientSecret";

/** Problems to show next to their fields; `form` for one that names no field of the form. */
export type FieldErrors = Partial<Record<FieldName | "form", string>>;

export const EMPTY_FIELDS: DestinationFields = {
  name: "",
  baseUrl: "",
  clientId: "",
  callsPer20s: "",
  concurrency: "",
  dailyBudget: "",
  markerField: "",
};

const text = (n: number | null) => (n === null ? "" : String(n));

/** The form filled with a stored destination's settings (its secret is never known here). */
export function fieldsOf(d: Destination): DestinationFields {
  return {
    name: d.name,
    baseUrl: d.baseUrl ?? "",
    clientId: d.clientId ?? "",
    callsPer20s: text(d.limits.callsPer20s),
    concurrency: text(d.limits.concurrency),
    dailyBudget: text(d.dailyBudget),
    markerField: d.markerField ?? "",
  };
}

const NUMBER_FIELDS = ["callsPer20s", "concurrency", "dailyBudget"] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];

/**
 * A whole number as people type it ("20,000", "20 000"); `null` when empty. The range is the
 * gateway's to check: it says why (Marketo's 100 calls per 20 s, 10 at once).
 */
export function wholeNumber(typed: string): number | null | { readonly error: string } {
  const digits = typed.replace(/[\s,_]/g, "");
  if (digits === "") return null;
  return /^\d+$/.test(digits) ? Number(digits) : { error: "a whole number, e.g. 50" };
}

type Parsed =
  | {
      readonly ok: true;
      readonly numbers: Readonly<Record<NumberField, number | null>>;
    }
  | { readonly ok: false; readonly errors: FieldErrors };

function parseNumbers(fields: DestinationFields): Parsed {
  const numbers: Partial<Record<NumberField, number | null>> = {};
  const errors: FieldErrors = {};
  for (const key of NUMBER_FIELDS) {
    const n = wholeNumber(fields[key]);
    if (typeof n === "object" && n !== null) errors[key] = n.error;
    else numbers[key] = n;
  }
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, numbers: numbers as Record<NumberField, number | null> };
}

/** The only values set: what `POST /v1/destinations` and the draft test take. */
function present(record: Readonly<Record<string, string | number | null>>) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== ""));
}

/**
 * The body of `POST /v1/destinations` (and of a draft's test, whose name may be empty): empty
 * optional fields are left out, so the gateway's defaults apply.
 */
export function createBody(
  fields: DestinationFields,
  secret: string,
): { readonly body: Record<string, unknown> } | { readonly errors: FieldErrors } {
  const parsed = parseNumbers(fields);
  if (!parsed.ok) return { errors: parsed.errors };
  return {
    body: present({
      name: fields.name.trim(),
      baseUrl: fields.baseUrl.trim(),
      clientId: fields.clientId.trim(),
      clientSecret: secret,
      ...parsed.numbers,
      markerField: fields.markerField.trim(),
    }),
  };
}

/**
 * The body of `PATCH /v1/destinations/{name}`: every setting as the form shows it (an emptied
 * one is null, which clears it), and the secret only when a new one was typed: left out, the
 * gateway keeps the stored one.
 */
export function changeBody(
  fields: DestinationFields,
  secret: string,
): { readonly body: Record<string, unknown> } | { readonly errors: FieldErrors } {
  const parsed = parseNumbers(fields);
  if (!parsed.ok) return { errors: parsed.errors };
  const marker = fields.markerField.trim();
  return {
    body: {
      baseUrl: fields.baseUrl.trim(),
      clientId: fields.clientId.trim(),
      ...(secret === "" ? {} : { clientSecret: secret }),
      ...parsed.numbers,
      markerField: marker === "" ? null : marker,
    },
  };
}

const FIELD_NAMES = new Set<string>([...Object.keys(EMPTY_FIELDS), "clientSecret"]);

/** The gateway's issues placed at their fields; the rest (and the message) go to `form`. */
export function fieldErrorsOf(message: string, issues: readonly Issue[]): FieldErrors {
  const errors: FieldErrors = {};
  const elsewhere: string[] = [];
  for (const issue of issues) {
    const field = issue.path.split(".")[0] ?? "";
    if (FIELD_NAMES.has(field)) {
      const key = field as FieldName;
      errors[key] = errors[key] ? `${errors[key]}; ${issue.message}` : issue.message;
    } else
      elsewhere.push(issue.path === "body" ? issue.message : `${issue.path}: ${issue.message}`);
  }
  if (issues.length === 0 || elsewhere.length > 0)
    errors.form = [message, ...elsewhere].join(" — ");
  return errors;
}
