import type { CodeStats } from "../types.ts";

const PALETTE = [
  "#c0392b",
  "#d68910",
  "#2874a6",
  "#7d3c98",
  "#138d75",
  "#a04000",
  "#5d6d7e",
  "#b03a2e",
  "#1f618d",
  "#117864",
];

/** Each code's color, stable for the codes on screen (200 is always green). */
export function colorsFor(codes: readonly string[]): Map<string, string> {
  const colors = new Map<string, string>();
  let i = 0;
  for (const code of codes) {
    colors.set(code, code === "200" ? "#27ae60" : (PALETTE[i++ % PALETTE.length] as string));
  }
  return colors;
}

/**
 * Attempts per code in each time bucket as stacked bars (an SVG drawn from the numbers; the
 * same numbers are in the table beside it for reading and for screen readers).
 */
export function CodeChart(props: {
  readonly stats: CodeStats;
  readonly codes: readonly string[];
  readonly colors: ReadonlyMap<string, string>;
}) {
  const { buckets } = props.stats;
  const width = 720;
  const height = 220;
  const pad = { left: 40, bottom: 24, top: 8 };
  const totals = buckets.map((b) => props.codes.reduce((sum, c) => sum + (b.counts[c] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (width - pad.left) / Math.max(1, buckets.length);
  const barWidth = Math.max(2, slot * 0.8);
  const scale = (height - pad.bottom - pad.top) / max;
  const label = (iso: string) => {
    const d = new Date(iso);
    return props.stats.bucket === "day"
      ? d.toISOString().slice(5, 10)
      : `${String(d.getHours()).padStart(2, "0")}:00`;
  };
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label="attempts by code over time"
    >
      <line x1={pad.left} x2={width} y1={height - pad.bottom} y2={height - pad.bottom} />
      <text x={pad.left - 6} y={pad.top + 10} textAnchor="end">
        {max}
      </text>
      <text x={pad.left - 6} y={height - pad.bottom} textAnchor="end">
        0
      </text>
      {buckets.map((b, i) => {
        let y = height - pad.bottom;
        const x = pad.left + i * slot + (slot - barWidth) / 2;
        return (
          <g key={b.start}>
            {props.codes.map((code) => {
              const n = b.counts[code] ?? 0;
              if (n === 0) return null;
              const h = n * scale;
              y -= h;
              return (
                <rect
                  key={code}
                  x={x}
                  y={y}
                  width={barWidth}
                  height={h}
                  fill={props.colors.get(code)}
                >
                  <title>{`${label(b.start)} — ${code}: ${n}`}</title>
                </rect>
              );
            })}
            {i % every === 0 ? (
              <text x={x + barWidth / 2} y={height - 6} textAnchor="middle">
                {label(b.start)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
