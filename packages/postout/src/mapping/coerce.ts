import type { LeadValue } from "./map-lead.ts";

/** The outcome of fitting a value to a Marketo data type. */
export type Coerced = { readonly ok: true; readonly value: LeadValue } | { readonly ok: false };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
// A pragmatic shape check (one @, a dot in the domain, no spaces); Marketo's own rule is unpublished.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Marketo integer fields are 32-bit signed (Admin → Field Management refuses larger values).
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const TRUE = new Set(["true", "1", "yes", "y"]);
const FALSE = new Set(["false", "0", "no", "n"]);

function validDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(m) - 1 &&
    date.getUTCDate() === Number(d)
  );
}

/**
 * Fits a value to a Marketo field's data type (docs/marketo.md §7.4), converting only where the
 * meaning cannot change:
 * - integer, score, percent: an integer number, or a string of digits ("42", "+7", "-3") within
 *   32 bits → number. "4.0", "1,000", "30%" are refused.
 * - float, currency: a finite number, or a decimal string ("10.4", ".5", "1e3") → number.
 *   "$10", "10,40" are refused (locale-dependent).
 * - boolean: true/false, 1/0, or "true"/"false"/"1"/"0"/"yes"/"no"/"y"/"n" in any case → boolean.
 * - date: "YYYY-MM-DD" that is a real calendar date, kept as it is.
 * - datetime: ISO 8601 "YYYY-MM-DDTHH:mm[:ss[.fff]]" with "Z" or an offset → normalised to UTC
 *   ("2010-05-07T15:41:32-05:00" → "2010-05-07T20:41:32Z"); without an offset it is kept as it
 *   is (Marketo reads it in the instance's time zone); "YYYY-MM-DD" is kept too.
 * - email: ASCII text with one @ and a dot in the domain, kept as it is.
 * - string, text, phone, url and others: numbers and booleans become text; text is kept.
 */
export function coerce(value: LeadValue, dataType: string): Coerced {
  switch (dataType) {
    case "integer":
    case "score":
    case "percent": {
      const n =
        typeof value === "number"
          ? value
          : typeof value === "string" && INTEGER.test(value)
            ? Number(value)
            : Number.NaN;
      return Number.isInteger(n) && n >= INT_MIN && n <= INT_MAX
        ? { ok: true, value: n }
        : { ok: false };
    }
    case "float":
    case "currency": {
      const n =
        typeof value === "number"
          ? value
          : typeof value === "string" && DECIMAL.test(value)
            ? Number(value)
            : Number.NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      const text = String(value).toLowerCase();
      if (TRUE.has(text)) return { ok: true, value: true };
      if (FALSE.has(text)) return { ok: true, value: false };
      return { ok: false };
    }
    case "date": {
      const m = typeof value === "string" ? DATE.exec(value) : null;
      return m && validDate(m[1] as string, m[2] as string, m[3] as string)
        ? { ok: true, value }
        : { ok: false };
    }
    case "datetime": {
      if (typeof value !== "string") return { ok: false };
      const d = DATE.exec(value);
      if (d)
        return validDate(d[1] as string, d[2] as string, d[3] as string)
          ? { ok: true, value }
          : { ok: false };
      const m = DATETIME.exec(value);
      if (!m || !validDate(m[1] as string, m[2] as string, m[3] as string)) return { ok: false };
      if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return { ok: false };
      if (m[7] === undefined) return { ok: true, value };
      const offset =
        m[7] === "Z" ? "Z" : m[7].length === 5 ? `${m[7].slice(0, 3)}:${m[7].slice(3)}` : m[7];
      const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}${offset}`;
      const time = Date.parse(iso);
      if (Number.isNaN(time)) return { ok: false };
      return { ok: true, value: new Date(time).toISOString().replace(".000Z", "Z") };
    }
    case "email":
      return typeof value === "string" && EMAIL.test(value) && isAscii(value)
        ? { ok: true, value }
        : { ok: false };
    default:
      return { ok: true, value: typeof value === "string" ? value : String(value) };
  }
}

/** Marketo allows only ASCII characters in email (docs/marketo.md §4). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
