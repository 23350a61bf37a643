import { useState } from "react";
import { api, query } from "../api.ts";
import { CodeChart, colorsFor } from "../components/CodeChart.tsx";
import type { CodeStats, LeadPage } from "../types.ts";
import { useLoad } from "../use-load.ts";

const RANGES = {
  "24h": { bucket: "hour", step: 3_600_000, count: 24, label: "last 24 hours, by hour" },
  "30d": { bucket: "day", step: 86_400_000, count: 30, label: "last 30 days, by day" },
} as const;
type Range = keyof typeof RANGES;

/** Errors by code over time: attempts per ResponseStatusCode in each hour or day. */
export function ErrorsPage() {
  const [range, setRange] = useState<Range>("24h");
  const [withSuccess, setWithSuccess] = useState(false);
  const { bucket, step, count } = RANGES[range];
  const stats = useLoad(() => {
    // Whole buckets: the first starts at the top of an hour (or a UTC day), the last is now's.
    const since = new Date((Math.floor(Date.now() / step) - (count - 1)) * step);
    return api<CodeStats>(`/v1/stats/codes${query({ bucket, since: since.toISOString() })}`);
  }, range);

  const buckets = stats.data?.buckets ?? [];
  const totals = new Map<string, number>();
  for (const b of buckets)
    for (const [code, n] of Object.entries(b.counts)) totals.set(code, (totals.get(code) ?? 0) + n);
  const codes = [...totals.keys()]
    .filter((c) => withSuccess || c !== "200")
    .sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
  const colors = colorsFor(codes);
  // The leads behind each code: those any of whose calls got it (a 503 tried again and then
  // answered otherwise too), updated in the period; 'show in the log' is the same filter.
  const since = stats.data?.since.replace(/:00\.000Z$/, "Z"); // 2026-11-23T18:00Z, to read
  const filterOf = (code: string) => ({ attemptCode: code, since });
  const leads = useLoad(
    async () => {
      if (since === undefined) return new Map<string, number>();
      const answers = await Promise.all(
        codes.map((code) => api<LeadPage>(`/v1/leads${query({ ...filterOf(code), limit: "1" })}`)),
      );
      return new Map(
        codes.map((code, i) => [
          code,
          Object.values(answers[i]?.counts ?? {}).reduce((sum, n) => sum + n, 0),
        ]),
      );
    },
    `${since}|${codes.join(",")}`,
  );

  return (
    <section>
      <h1>Errors by code</h1>
      <div className="toolbar">
        {(Object.keys(RANGES) as Range[]).map((r) => (
          <button
            key={r}
            type="button"
            className={r === range ? "active" : ""}
            onClick={() => setRange(r)}
          >
            {RANGES[r].label}
          </button>
        ))}
        <label>
          <input
            type="checkbox"
            checked={withSuccess}
            onChange={(e) => setWithSuccess(e.target.checked)}
          />{" "}
          show successes (200)
        </label>
      </div>
      {stats.error ? (
        <p className="error" role="alert">
          {stats.error}
        </p>
      ) : null}
      {stats.data ? (
        <CodeChart stats={stats.data} codes={codes} colors={colors} />
      ) : (
        <p aria-busy="true">Loading…</p>
      )}
      {stats.data && codes.length === 0 ? (
        <p className="empty">No failed attempt in this period.</p>
      ) : null}
      {leads.error ? (
        <p className="error" role="alert">
          {leads.error}
        </p>
      ) : null}
      <table className="legend" aria-busy={leads.loading}>
        <thead>
          <tr>
            <th>Code</th>
            <th>Attempts</th>
            <th>Leads</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {codes.map((code) => (
            <tr key={code}>
              <td>
                <span className="swatch" style={{ background: colors.get(code) }} />{" "}
                <span className="code">{code}</span>
              </td>
              <td className="num">{totals.get(code)}</td>
              <td className="num leads">{leads.data?.get(code) ?? "…"}</td>
              <td>
                <a href={`#/${query(filterOf(code))}`}>show in the log</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        Attempts counts every call answered with the code, calls tried again among them. Leads
        counts the leads any of whose calls got it, updated in this period; a lead that got a 503
        and was then delivered is among them.
      </p>
    </section>
  );
}
