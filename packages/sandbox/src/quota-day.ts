// §12: "the daily quota resets at 12:00 AM CST". The docs say CST; we read it as local
// midnight in America/Chicago, so it moves to 05:00Z while daylight saving time is in force
// (unverified: we answer "Chicago wall-clock midnight", CST or CDT as the date requires).
const chicago = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Chicago",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** The quota day of an instant, as `YYYY-MM-DD` in America/Chicago. */
export function quotaDay(ms: number): string {
  let year = "";
  let month = "";
  let day = "";
  for (const part of chicago.formatToParts(ms)) {
    if (part.type === "year") year = part.value;
    else if (part.type === "month") month = part.value;
    else if (part.type === "day") day = part.value;
  }
  return `${year}-${month}-${day}`;
}

/** The instant of the next quota reset (next midnight in America/Chicago) after `ms`. */
export function nextQuotaReset(ms: number): number {
  const [y, m, d] = quotaDay(ms).split("-").map(Number) as [number, number, number];
  // Chicago midnight is 05:00Z under CDT (UTC-5) and 06:00Z under CST (UTC-6).
  const today = quotaDay(ms);
  const cdt = Date.UTC(y, m - 1, d + 1, 5);
  return quotaDay(cdt) !== today && quotaDay(cdt - 1) === today
    ? cdt
    : Date.UTC(y, m - 1, d + 1, 6);
}
