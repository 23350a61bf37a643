import { CATALOG } from "./catalog.ts";
import { clip, MAX_CHARS } from "./clip.ts";

/** Where Marketo reports a code: the HTTP status, `errors[]` of the envelope, or a record's `reasons[]`. */
export type Level = "http" | "response" | "record";

/**
 * How a code is recovered from. A closed set: every code maps to exactly one.
 * - `reauthenticate`: fetch a new access token and resend (601, 602).
 * - `slow-down`: the instance's rate or concurrency is used up; wait and lower our share (606, 615).
 * - `wait-for-quota-reset`: no call can succeed before midnight America/Chicago (607).
 * - `retry-with-backoff`: transient; resend after an exponentially growing, jittered delay.
 * - `split-request`: resend the batch in smaller parts (413; 604 on a batch write).
 * - `post-with-method-get`: resend a read as POST with `_method=GET` and a form body (414).
 * - `none`: a person must change something (data, field map, route, Marketo settings).
 */
export type Recovery =
  | "reauthenticate"
  | "slow-down"
  | "wait-for-quota-reset"
  | "retry-with-backoff"
  | "split-request"
  | "post-with-method-get"
  | "none";

export const RECOVERIES: readonly Recovery[] = [
  "reauthenticate",
  "slow-down",
  "wait-for-quota-reset",
  "retry-with-backoff",
  "split-request",
  "post-with-method-get",
  "none",
];

/** One documented Marketo code. */
export interface CodeEntry {
  /** The code as Marketo writes it: `"1006"`, `"606"`, or an HTTP status such as `"413"`. */
  readonly code: string;
  readonly level: Level;
  /** Marketo's message template; each `%s` is a value Marketo fills in. */
  readonly message: string;
  /** Other texts Marketo is documented to send with the same code. */
  readonly alternateMessages?: readonly string[];
  /** Names of the `%s` values of `message`, in order (e.g. `["field"]`). */
  readonly params?: readonly string[];
  /** What the code means, in our words. */
  readonly meaning: string;
  readonly recovery: Recovery;
  /**
   * Whether a call answered with this code counts against the daily quota and rate limit:
   * `false` where the docs say it does not, `null` where they are silent (assume it does).
   */
  readonly counted: boolean | null;
  /** What a person running Postout should do; `{field}`-style names are filled from the message. */
  readonly fix: string;
  /** One of the codes seen most often when posting leads (seed 003's table). */
  readonly common: boolean;
}

const byCode = new Map<string, CodeEntry>(CATALOG.map((entry) => [entry.code, entry]));

/** Every catalog entry, in code order within each level. */
export function allCodes(): readonly CodeEntry[] {
  return CATALOG;
}

/** The entry for a code (`1006`, `"606"`), or `undefined` when Marketo does not document it. */
export function lookupCode(code: string | number): CodeEntry | undefined {
  return byCode.get(String(code).trim());
}

/** The documented codes nearest in number to an unknown one, nearest first. */
export function nearestCodes(code: string | number, count = 3): CodeEntry[] {
  const n = Number(code);
  if (!Number.isFinite(n)) return [];
  return CATALOG.filter((entry) => Number.isFinite(Number(entry.code)))
    .sort((a, b) => Math.abs(Number(a.code) - n) - Math.abs(Number(b.code) - n))
    .slice(0, count);
}

/** A code and message as Marketo sent them, with the catalog's reading of them. */
export interface ExplainedCode {
  /** Cut to `MAX_CHARS.code` (see {@link clip}). */
  readonly code: string;
  /** As Marketo sent it, cut to `MAX_CHARS.message` with a marker. */
  readonly message: string;
  readonly entry: CodeEntry | undefined;
  /** Values found in the message by its template, e.g. `{ field: "role" }` for 1006. */
  readonly values: Readonly<Record<string, string>>;
}

// Marketo's docs print some quotes typographically (‘ ’) or as backticks; compare on straight quotes.
function normalizeQuotes(text: string): string {
  return text.replace(/[‘’`´]/g, "'").trim();
}

interface CompiledTemplate {
  readonly entry: CodeEntry;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

function compile(entry: CodeEntry, template: string): CompiledTemplate {
  const parts = normalizeQuotes(template).split("%s");
  const body = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("(.+?)");
  // A value placeholder never spans more than one line, so a pathological input stays linear.
  return { entry, pattern: new RegExp(`^${body}$`), params: entry.params ?? [] };
}

const templates: readonly CompiledTemplate[] = CATALOG.flatMap((entry) =>
  [entry.message, ...(entry.alternateMessages ?? [])].map((t) => compile(entry, t)),
);

function extract(t: CompiledTemplate, text: string): Record<string, string> | undefined {
  const m = t.pattern.exec(text);
  if (!m) return undefined;
  const values: Record<string, string> = {};
  t.params.forEach((name, i) => {
    const v = m[i + 1];
    if (v !== undefined) values[name] = v;
  });
  return values;
}

/**
 * Reads a code and message as Marketo sent them: the catalog entry for the code, and the values
 * its message template holds ("Field 'role' not found" → `{ field: "role" }`). This is the one
 * place that reads message text; everything else branches on the code. The code and message
 * come from outside, so both are cut to their `MAX_CHARS` bound before anything keeps them.
 */
export function explainCode(code: string | number, message = ""): ExplainedCode {
  const codeText = clip(String(code).trim(), MAX_CHARS.code);
  const entry = lookupCode(codeText);
  const kept = clip(message, MAX_CHARS.message);
  const text = normalizeQuotes(kept);
  let values: Record<string, string> = {};
  if (entry) {
    for (const t of templates) {
      if (t.entry !== entry) continue;
      const found = extract(t, text);
      if (found) {
        values = found;
        break;
      }
    }
  }
  return { code: codeText, message: kept, entry, values };
}

/**
 * Finds the codes whose message template matches a text with no code beside it,
 * e.g. "Field 'role' not found" → 1006 with `{ field: "role" }`.
 */
export function matchMessage(message: string): ExplainedCode[] {
  const kept = clip(message, MAX_CHARS.message);
  const text = normalizeQuotes(kept);
  const found: ExplainedCode[] = [];
  for (const t of templates) {
    const values = extract(t, text);
    if (values && !found.some((f) => f.entry === t.entry)) {
      found.push({ code: t.entry.code, message: kept, entry: t.entry, values });
    }
  }
  return found;
}

const defaultNouns: Readonly<Record<string, string>> = {
  field: "the field",
  value: "the value",
  type: "the field's type",
  partition: "the partition",
  limit: "the limit",
  seconds: "the window",
};

function fillNames(template: string, values: Readonly<Record<string, string>>): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    return v === undefined ? (defaultNouns[name] ?? name) : `'${v}'`;
  });
  return filled.charAt(0).toUpperCase() + filled.slice(1);
}

/** The entry's suggested fix with the values from the message filled in ("'role' is not a Marketo field…"). */
export function fixFor(entry: CodeEntry, values: Readonly<Record<string, string>> = {}): string {
  return fillNames(entry.fix, values);
}

/** The entry's meaning with the values from the message filled in. */
export function meaningFor(
  entry: CodeEntry,
  values: Readonly<Record<string, string>> = {},
): string {
  return fillNames(entry.meaning, values);
}
