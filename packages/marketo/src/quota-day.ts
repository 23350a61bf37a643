/**
 * Marketo's daily quota resets at midnight US Central time (§12: "12:00AM CST"). We read that
 * as midnight in America/Chicago, so daylight saving time moves the reset to 05:00 UTC in
 * summer (CDT) and 06:00 UTC in winter (CST). The docs leave DST unverified; Chicago local
 * midnight is the reading Marketo's own usage statistics days follow.
 */

const chicago = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Chicago",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

function chicagoParts(at: Date): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of chicago.formatToParts(at)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

/** The quota day an instant belongs to, as `YYYY-MM-DD` in America/Chicago. */
export function quotaDay(at: Date): string {
  const { year, month, day } = chicagoParts(at);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The next midnight in America/Chicago after `at`: when a 607 "Daily quota reached" lifts. */
export function nextQuotaReset(at: Date): Date {
  const { year, month, day } = chicagoParts(at);
  // Chicago is UTC-6 (CST) or UTC-5 (CDT); DST changes at 02:00, so local midnight is one of these.
  for (const offsetHours of [5, 6]) {
    const candidate = new Date(Date.UTC(year, month - 1, day + 1, offsetHours));
    const p = chicagoParts(candidate);
    if (p.hour === 0 && p.minute === 0) return candidate;
  }
  throw new Error(`no America/Chicago midnight found after ${at.toISOString()}`);
}
