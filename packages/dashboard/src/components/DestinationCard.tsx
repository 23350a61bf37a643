import { useState } from "react";
import { api, describeError } from "../api.ts";
import type { ConnectionReport, Destination } from "../types.ts";
import { ConnectionResult } from "./ConnectionResult.tsx";
import { DestinationSettings } from "./DestinationSettings.tsx";

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/**
 * One destination: its state, settings, quota gauge with its forecast, and what can be done to
 * it — pause or resume, test its connection and, for one connected here, edit or remove it.
 */
export function DestinationCard(props: {
  readonly destination: Destination;
  readonly onChange: (d: Destination) => void;
  readonly onEdit: () => void;
  readonly onRemove: () => void;
}) {
  const d = props.destination;
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const [report, setReport] = useState<ConnectionReport | undefined>(undefined);
  const [testing, setTesting] = useState(false);
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
  const test = async () => {
    setTesting(true);
    setReport(undefined);
    try {
      setReport(
        await api<ConnectionReport>(`/v1/destinations/${encodeURIComponent(d.name)}/test`, {
          method: "POST",
        }),
      );
      setFailure(undefined);
    } catch (e) {
      setFailure(describeError(e));
    } finally {
      setTesting(false);
    }
  };
  const share = d.quota.limit > 0 ? d.quota.used / d.quota.limit : 0;
  const waiting =
    (d.queue.queued ?? 0) +
    (d.queue.retrying ?? 0) +
    (d.queue.sending ?? 0) +
    (d.queue.paused ?? 0);
  const throttled = Object.entries(d.throttled ?? {});
  const stored = d.source === "api";
  return (
    <article className="card destination" aria-label={`destination ${d.name}`}>
      <h2>
        {d.name}{" "}
        {d.paused ? (
          <span className="badge badge-paused">paused</span>
        ) : (
          <span className="badge badge-delivered">sending</span>
        )}{" "}
        <span className="badge">{stored ? "connected here" : "config file"}</span>
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
        <button type="button" onClick={test} disabled={testing}>
          {testing ? "Testing…" : "Test connection"}
        </button>
        {stored ? (
          <>
            <button type="button" onClick={props.onEdit}>
              Edit
            </button>
            <button type="button" className="danger" onClick={props.onRemove}>
              Remove
            </button>
          </>
        ) : null}
      </div>
      <div role="status" aria-label={`connection test of ${d.name}`}>
        {report ? <ConnectionResult report={report} /> : null}
      </div>
      {failure ? (
        <p className="error" role="alert">
          {failure}
        </p>
      ) : null}
      <h3>Connection</h3>
      <DestinationSettings destination={d} />
      {stored ? null : (
        <p className="hint read-only">
          Read-only here: it comes from the config file or the environment (MARKETO_*). Change it
          there and restart Postout.
        </p>
      )}
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
        {(d.gate.share * 100).toFixed(0)} %; {waiting.toLocaleString()}{" "}
        {waiting === 1 ? "lead" : "leads"} waiting.
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
