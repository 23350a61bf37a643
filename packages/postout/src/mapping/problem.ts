/**
 * Something about one lead that Marketo would refuse (or that Postout refuses before Marketo
 * could). `code` is the Marketo code the problem prevents ("1006", "1001", "1002", "701",
 * "1003") when there is one, otherwise a Postout code in kebab case ("no-value-mapping",
 * "unmapped-column", "email-not-ascii", "conflicting-values", "too-long", "read-only").
 */
export interface Problem {
  readonly code: string;
  /** The Marketo field (or, for `unmapped-column`, the source column). */
  readonly field: string;
  /** The offending value, as text. */
  readonly value?: string;
  /** What is wrong; Marketo's own wording for Marketo codes. */
  readonly message: string;
  /** What to do, naming the field. */
  readonly fix: string;
}

/** A value shown in a message: cut at 80 characters so a 64 KiB field does not flood a report. */
export function shown(value: unknown): string {
  const text = String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
