import type { Destination } from "../types.ts";

const share = (n: number | null, of: number, what: string) =>
  n === null ? `all ${of} ${what}` : `${n} of ${of} ${what}`;

/** How a destination reaches its Marketo: where, as whom, with which share (never the secret). */
export function DestinationSettings(props: { readonly destination: Destination }) {
  const d = props.destination;
  return (
    <dl className="facts settings">
      <dt>REST base URL</dt>
      <dd className="mono">{d.baseUrl ?? "—"}</dd>
      <dt>Client id</dt>
      <dd className="mono">{d.clientId ?? "—"}</dd>
      <dt>Share of the limits</dt>
      <dd>
        {share(d.limits.callsPer20s, 100, "calls per 20 s")},{" "}
        {share(d.limits.concurrency, 10, "concurrent calls")}
      </dd>
      <dt>Daily call budget</dt>
      <dd>
        {d.dailyBudget === null ? "none of its own" : `${d.dailyBudget.toLocaleString()} calls`}
      </dd>
      <dt>Marker field</dt>
      <dd className={d.markerField ? "mono" : undefined}>{d.markerField ?? "none"}</dd>
    </dl>
  );
}
