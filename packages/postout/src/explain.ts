import {
  type CodeEntry,
  type ExplainedCode,
  explainCode,
  fixFor,
  lookupCode,
  matchMessage,
  meaningFor,
  nearestCodes,
} from "@postout/marketo";
import { type OwnCode, ownCode } from "./own-codes.ts";

/** What `postout explain` found in its input. */
export type Explanation =
  | {
      readonly kind: "found";
      readonly items: readonly ExplainedItem[];
      /** Codes in the input that Marketo does not document. */
      readonly unknown: readonly string[];
    }
  /** One of Postout's own codes (too-long, network, uncertain …): not Marketo's. */
  | { readonly kind: "own"; readonly entry: OwnCode }
  | { readonly kind: "unknown-code"; readonly code: string; readonly nearest: readonly CodeEntry[] }
  | { readonly kind: "nothing" };

/** One code found in the input, read through the catalog. */
export interface ExplainedItem {
  readonly entry: CodeEntry;
  /** The message Marketo sent with the code, when the input had one. */
  readonly sent: string | undefined;
  /** Values the message template held, e.g. `{ field: "role" }`. */
  readonly values: Readonly<Record<string, string>>;
  /** The meaning and the fix with those values filled in. */
  readonly meaning: string;
  readonly fix: string;
}

function item(explained: ExplainedCode & { entry: CodeEntry }): ExplainedItem {
  return {
    entry: explained.entry,
    sent: explained.message || undefined,
    values: explained.values,
    meaning: meaningFor(explained.entry, explained.values),
    fix: fixFor(explained.entry, explained.values),
  };
}

function hasEntry(e: ExplainedCode): e is ExplainedCode & { entry: CodeEntry } {
  return e.entry !== undefined;
}

const MAX_DEPTH = 64;

/**
 * Every code in a Marketo response: `errors[]` and each record's `reasons[]` (objects with a
 * `code`), a lead platform's `reasonCode: {reason, statusCode}` wrapper (seed 003), and bare
 * messages in an `errors` array of strings.
 */
function codesInJson(value: unknown, inErrors = false, depth = 0): ExplainedCode[] {
  if (depth > MAX_DEPTH) return [];
  if (typeof value === "string") return inErrors ? matchMessage(value) : [];
  if (Array.isArray(value)) return value.flatMap((v) => codesInJson(v, inErrors, depth + 1));
  if (typeof value !== "object" || value === null) return [];
  const record = value as Record<string, unknown>;
  const found: ExplainedCode[] = [];
  const message = typeof record.message === "string" ? record.message : "";
  if (typeof record.code === "string" || typeof record.code === "number") {
    found.push(explainCode(record.code, message));
  }
  const status = record.statusCode;
  if ((typeof status === "number" || typeof status === "string") && String(status) !== "200") {
    found.push(explainCode(status, typeof record.reason === "string" ? record.reason : ""));
  }
  for (const [key, child] of Object.entries(record)) {
    found.push(...codesInJson(child, key === "errors", depth + 1));
  }
  return found;
}

function unique(found: readonly ExplainedCode[]): ExplainedCode[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.code}\u0000${JSON.stringify(f.values)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Explains what a person pasted: a code (`1006`), a Marketo message ("Field 'role' not found"),
 * or a whole Marketo response (JSON).
 */
export function explainInput(input: string): Explanation {
  const text = input.trim();
  const own = ownCode(text);
  if (own) return { kind: "own", entry: own };
  if (/^\d{3,4}$/.test(text)) {
    const entry = lookupCode(text);
    if (!entry) return { kind: "unknown-code", code: text, nearest: nearestCodes(text) };
    return {
      kind: "found",
      items: [item({ code: text, message: "", entry, values: {} })],
      unknown: [],
    };
  }
  const json = text.startsWith("{") || text.startsWith("[") ? parseJson(text) : undefined;
  const found = json === undefined ? matchMessage(text) : codesInJson(json);
  const known = unique(found).filter(hasEntry);
  const unknown = [...new Set(found.filter((f) => !f.entry).map((f) => f.code))];
  if (known.length > 0) return { kind: "found", items: known.map(item), unknown };
  const [first] = unknown;
  if (first !== undefined)
    return { kind: "unknown-code", code: first, nearest: nearestCodes(first) };
  return { kind: "nothing" };
}
