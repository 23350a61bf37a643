import { readFile } from "node:fs/promises";
import { z } from "zod";
import { isReservedName, reservedKeyPath, reservedNameReason } from "../reserved-names.ts";

/** Turns one source value into a Marketo value (seed 003's "list value mapper"). */
export interface ValueMapper {
  /** Source value → Marketo value, e.g. `{ "CA": "California" }`. */
  readonly map: Readonly<Record<string, string>>;
  /** Used when a value has no mapping; without it such a value is a problem. */
  readonly default?: string;
  /** Match source values ignoring case ("ca" finds "CA"). @default false */
  readonly caseInsensitive?: boolean;
}

/** How source columns become Marketo fields (seed 003's "input field map"). */
export interface FieldMap {
  /** Source column → Marketo field REST name. */
  readonly fields: Readonly<Record<string, string>>;
  /** Marketo field → value set on every lead (wins over nothing: a constant's field cannot also be mapped). */
  readonly constants: Readonly<Record<string, string | number | boolean>>;
  /** Marketo field → value mapper applied to its (trimmed) value. */
  readonly values: Readonly<Record<string, ValueMapper>>;
  /**
   * What happens to a source column not named in `fields`: `keep` sends it under its own
   * name, `drop` leaves it out, `reject` makes the lead a problem.
   * @default "keep" without a map file, "drop" with one that names fields
   */
  readonly unmapped: "drop" | "keep" | "reject";
}

/** No map given: source column names are Marketo field names, and every column is sent. */
export const IDENTITY_MAP: FieldMap = Object.freeze({
  fields: {},
  constants: {},
  values: {},
  unmapped: "keep",
});

/** A field map file that is not valid; `issues` are `path: problem` lines. */
export class FieldMapError extends Error {
  override readonly name = "FieldMapError";
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(`${source}: invalid field map\n${issues.map((i) => `  ${i}`).join("\n")}`);
    this.issues = issues;
  }
}

// Marketo field names start with a letter and hold letters, digits and underscores (§7.3).
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const fieldName = z
  .string()
  .regex(FIELD_NAME, "not a Marketo field name (a letter, then letters, digits or _)")
  .refine((name) => !isReservedName(name), { error: (i) => reservedNameReason(String(i.input)) });

const valueMapperSchema = z.strictObject({
  map: z.record(z.string(), z.string()),
  default: z.string().optional(),
  caseInsensitive: z.boolean().optional(),
});

const fieldMapSchema = z.strictObject({
  fields: z.record(z.string(), fieldName).optional(),
  constants: z.record(fieldName, z.union([z.string(), z.number(), z.boolean()])).optional(),
  values: z.record(fieldName, valueMapperSchema).optional(),
  unmapped: z.enum(["drop", "keep", "reject"]).optional(),
});

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected === "object" || issue.expected === "array" ? "an" : "a"} ${issue.expected}`;
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      return "expected a string, a number or a boolean";
    case "invalid_key":
      return "not a Marketo field name (a letter, then letters, digits or _)";
    default:
      return issue.message;
  }
}

function pathOf(issue: Issue): string {
  return issue.path.length === 0 ? "(top level)" : issue.path.map(String).join(".");
}

/**
 * Validates a parsed field map (`{ fields, constants, values, unmapped }`) and fills defaults.
 * Throws {@link FieldMapError} naming every problem by its path (`fields.Email: expected a
 * string`), including maps that contradict themselves: a constant for a mapped field, or a
 * case-insensitive value mapper with two keys that differ only by case.
 */
export function parseFieldMap(input: unknown, source = "field map"): FieldMap {
  // Checked before the schema, which would drop a `__proto__` key without a word.
  const reserved = reservedKeyPath(input);
  if (reserved !== undefined) {
    const name = reserved.slice(reserved.lastIndexOf(".") + 1);
    throw new FieldMapError(source, [`${reserved}: ${reservedNameReason(name)}`]);
  }
  const parsed = fieldMapSchema.safeParse(input);
  if (!parsed.success) {
    throw new FieldMapError(
      source,
      parsed.error.issues.map((issue) => `${pathOf(issue)}: ${describeIssue(issue)}`),
    );
  }
  const { fields = {}, constants = {}, values = {} } = parsed.data;
  const issues: string[] = [];
  const targets = new Set(Object.values(fields));
  for (const name of Object.keys(constants)) {
    if (targets.has(name)) {
      const column = Object.keys(fields).find((c) => fields[c] === name);
      issues.push(`constants.${name}: '${name}' is also mapped from fields.${column}; keep one`);
    }
  }
  for (const [name, mapper] of Object.entries(values)) {
    if (!mapper.caseInsensitive) continue;
    const seen = new Map<string, string>();
    for (const key of Object.keys(mapper.map)) {
      const other = seen.get(key.toLowerCase());
      if (other !== undefined) {
        issues.push(`values.${name}.map: '${other}' and '${key}' are the same ignoring case`);
      }
      seen.set(key.toLowerCase(), key);
    }
  }
  if (issues.length > 0) throw new FieldMapError(source, issues);
  const valueMappers: Record<string, ValueMapper> = {};
  for (const [name, m] of Object.entries(values)) {
    valueMappers[name] = {
      map: m.map,
      ...(m.default === undefined ? {} : { default: m.default }),
      ...(m.caseInsensitive === undefined ? {} : { caseInsensitive: m.caseInsensitive }),
    };
  }
  return {
    fields,
    constants,
    values: valueMappers,
    // A map that names its fields means "these columns": the rest are dropped unless asked.
    unmapped: parsed.data.unmapped ?? (Object.keys(fields).length > 0 ? "drop" : "keep"),
  };
}

/** Reads and validates a field map file (JSON); every failure is a {@link FieldMapError}. */
export async function loadFieldMap(path: string): Promise<FieldMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new FieldMapError(path, [
      code === "ENOENT" ? "no such file" : `cannot be read (${String(code ?? "unknown error")})`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FieldMapError(path, [`not valid JSON (${(error as Error).message})`]);
  }
  return parseFieldMap(json, path);
}
