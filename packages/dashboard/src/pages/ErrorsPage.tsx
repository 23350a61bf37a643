import { useState } from "react";
import { api, query } from "../api.ts";
import { CodeChart, colorsFor } from "../components/CodeChart.tsx";
import type { CodeStats } from "../types.ts";
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
      <table className="legend">
        <thead>
          <tr>
            <th>Code</th>
            <th>Attempts</th>
            <th>Leads whose last answer is this code</th>
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
              <td>
                <a href={`#/${query({ code })}`}>show in the log</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
