/** How the log's Since and Until are written: as the gateway's filter reads them (ISO 8601). */
export const TIME_EXAMPLE = "2026-11-23 or 2026-11-23T18:00Z";

/**
 * What is wrong with a Since or Until value, in words naming the field; undefined when it is
 * a time. The gateway's rule: ISO 8601 starting with the date, and a time that exists
 * (2026-13-45 is refused).
 */
export function timeProblem(label: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) return undefined;
  return `${label}: '${value}' is not a valid time. Write it as ${TIME_EXAMPLE}.`;
}
