import { isReservedName, reservedNameReason } from "../reserved-names.ts";
import type { RejectCode } from "./errors.ts";
import type { FieldValue } from "./items.ts";
import type { Limits } from "./options.ts";

/** Why a value cannot be taken as it is, or `undefined` when it can. */
export interface ValueProblem {
  readonly code: RejectCode;
  readonly reason: string;
}

/** Shows a field name in a reason without letting control characters or huge names through. */
export function quoteName(name: string): string {
  const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return JSON.stringify(shown);
}

function utf8Bytes(value: string): number {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings skip the exact count.
  return value.length * 3 <= 1024 ? value.length * 3 : Buffer.byteLength(value, "utf8");
}

/**
 * Checks one string value: size cap, NUL characters (which many systems, Marketo's JSON among
 * them, cannot store safely) and unpaired surrogates (not encodable as UTF-8, and Marketo
 * requires UTF-8 JSON — docs/marketo.md §4).
 */
export function checkString(name: string, value: string, limits: Limits): ValueProblem | undefined {
  if (value.length > limits.maxFieldBytes / 3 && utf8Bytes(value) > limits.maxFieldBytes) {
    return {
      code: "field_too_large",
      reason: `field ${quoteName(name)} is ${Buffer.byteLength(value, "utf8")} bytes; the limit is ${limits.maxFieldBytes} bytes per field`,
    };
  }
  if (value.includes("\0")) {
    return {
      code: "nul_character",
      reason: `field ${quoteName(name)} contains a NUL character (\\0); remove it and post the row again`,
    };
  }
  if (!value.isWellFormed()) {
    return {
      code: "unpaired_surrogate",
      reason: `field ${quoteName(name)} contains an unpaired UTF-16 surrogate, which is not valid Unicode`,
    };
  }
  return undefined;
}

/** Sets a property even when the name is `__proto__`, so a column name never changes a prototype. */
export function setField(
  target: Record<string, FieldValue>,
  name: string,
  value: FieldValue,
): void {
  if (name === "__proto__") {
    Object.defineProperty(target, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[name] = value;
  }
}

/**
 * Checks a parsed JSON value is one lead: an object whose values are strings, numbers, booleans
 * or null (Marketo lead fields are scalars, §4), with names and strings that pass
 * {@link checkString}. Returns the fields, or the problem.
 */
export function checkJsonLead(
  value: unknown,
  limits: Limits,
): { fields: Record<string, FieldValue> } | ValueProblem {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { code: "not_an_object", reason: `expected a JSON object (one lead), got ${kind}` };
  }
  const fields: Record<string, FieldValue> = {};
  for (const [name, v] of Object.entries(value)) {
    if (name.trim() === "") {
      return { code: "empty_field_name", reason: "a field has an empty name" };
    }
    if (isReservedName(name)) return { code: "reserved_name", reason: reservedNameReason(name) };
    const nameProblem = checkString("(name)", name, limits);
    if (nameProblem) return nameProblem;
    if (typeof v === "string") {
      const problem = checkString(name, v, limits);
      if (problem) return problem;
    } else if (
      !(v === null || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)))
    ) {
      return {
        code: "nested_value",
        reason: `field ${quoteName(name)} is ${Array.isArray(v) ? "an array" : "an object"}; lead fields must be strings, numbers, booleans or null`,
      };
    }
    setField(fields, name, v as FieldValue);
  }
  return { fields };
}
