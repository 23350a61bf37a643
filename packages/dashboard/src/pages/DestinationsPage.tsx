import { useState } from "react";
import { api, describeError } from "../api.ts";
import type { Destination } from "../types.ts";
import { useLoad } from "../use-load.ts";

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function DestinationCard(props: {
  readonly destination: Destination;
  readonly onChange: (d: Destination) => void;
}) {
  const d = props.destination;
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const act = async (verb: "pause" | "resume") => {
    try {
      const body = verb === "pause" ? { reason: "paused from the dashboard" } : undefined;
      props.onChange(
        await api<Destination>(`/v1/destinations/${encodeURIComponent(d.name)}/${verb}`, {
          method: "POST",
          ...(body ? { body } : {}),
        }),
      );
      setFailure(undefined);
    } catch (e) {
      setFailure(describeError(e));
    }
  };
  const share = d.quota.limit > 0 ? d.quota.used / d.quota.limit : 0;
  const waiting =
    (d.queue.queued ?? 0) +
    (d.queue.retrying ?? 0) +
    (d.queue.sending ?? 0) +
    (d.queue.paused ?? 0);
  const throttled = Object.entries(d.throttled ?? {});
  return (
    <article className="card destination" aria-label={`destination ${d.name}`}>
      <h2>
        {d.name}{" "}
        {d.paused ? (
          <span className="badge badge-paused">paused</span>
        ) : (
          <span className="badge badge-delivered">sending</span>
        )}
      </h2>
      {d.paused ? (
        <p className="paused">
          Paused{d.paused.code ? ` (${d.paused.code})` : ""}: {d.paused.reason ?? "no reason given"}
          . {d.paused.until ? `Until ${when(d.paused.until)}.` : "Until resumed."}
        </p>
      ) : null}
      <div className="actions">
        {d.paused ? (
          <button type="button" className="primary" onClick={() => act("resume")}>
            Resume
          </button>
        ) : (
          <button type="button" onClick={() => act("pause")}>
            Pause
          </button>
        )}
      </div>
      {failure ? (
        <p className="error" role="alert">
          {failure}
        </p>
      ) : null}
      <h3>Daily quota</h3>
      <meter
        aria-label={`quota used by ${d.name}`}
        min={0}
        max={d.quota.limit}
        low={d.quota.limit * 0.7}
        high={d.quota.limit * 0.9}
        optimum={0}
        value={d.quota.used}
      />
      <p>
        {d.quota.used.toLocaleString()} of {d.quota.limit.toLocaleString()} calls today (
        {(share * 100).toFixed(1)} %), {d.quota.pacePerHour.toLocaleString()} an hour.{" "}
        {d.quota.runsOutAt
          ? `At this pace it runs out at ${when(d.quota.runsOutAt)}.`
          : "At this pace it lasts until the reset."}{" "}
        Resets at {when(d.quota.resetsAt)} (midnight US Central).
      </p>
      <h3>Now</h3>
      <p>
        {d.gate.inWindow} calls in the last 20 s, {d.gate.inFlight} in flight, share of the limits{" "}
        {(d.gate.share * 100).toFixed(0)} %; {waiting} leads waiting.
      </p>
      <h3>Calls by answer code (since start)</h3>
      <p className="mono">
        {Object.entries(d.calls)
          .map(([code, n]) => `${code}: ${n}`)
          .join(" · ") || "none yet"}
      </p>
      {throttled.length > 0 ? (
        <>
          <h3>606/615 received</h3>
          <p className="mono">
            {throttled
              .map(
                ([code, causes]) =>
                  `${code}: ${Object.entries(causes)
                    .map(([cause, n]) => `${n} ${cause}`)
                    .join(", ")}`,
              )
              .join(" · ")}
          </p>
        </>
      ) : null}
    </article>
  );
}

/** Destinations: state, pause/resume, quota gauge with its forecast. */
export function DestinationsPage() {
  const list = useLoad(() => api<{ destinations: Destination[] }>("/v1/destinations"), "all");
  const [updated, setUpdated] = useState<ReadonlyMap<string, Destination>>(new Map());
  if (list.error)
    return (
      <p className="error" role="alert">
        {list.error}
      </p>
    );
  return (
    <section>
      <h1>Destinations</h1>
      {list.data?.destinations.map((d) => (
        <DestinationCard
          key={d.name}
          destination={updated.get(d.name) ?? d}
          onChange={(next) => setUpdated(new Map(updated).set(next.name, next))}
        />
      )) ?? <p aria-busy="true">Loading…</p>}
    </section>
  );
}
