import { useEffect, useState } from "react";
import { api, describeError } from "../api.ts";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { JsonView } from "../components/JsonView.tsx";
import { Outcome } from "../components/Outcome.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { Verdict } from "../components/Verdict.tsx";
import type { Attempt, LeadDetail } from "../types.ts";
import { useLoad } from "../use-load.ts";

function AttemptView(props: {
  readonly attempt: Attempt;
  readonly open: boolean;
  /** Which call of its attempt this row is, when the client sent the attempt's call again. */
  readonly call?: { readonly k: number; readonly of: number };
}) {
  const { attempt, open, call } = props;
  const failed = attempt.responseStatusCode !== "200";
  const name = `attempt ${attempt.n}${call ? `, call ${call.k} of ${call.of}` : ""}`;
  return (
    <details className="attempt" open={open}>
      <summary>
        #{attempt.n} · {attempt.at?.replace("T", " ").slice(0, 19) ?? "—"} · {attempt.endpoint} ·{" "}
        <span className={failed ? "code bad" : "code good"}>{attempt.responseStatusCode}</span> ·{" "}
        {/* A call the client tried again left the lead sending: the next row is what followed. */}
        {attempt.outcome === "sending" ? "tried again" : attempt.outcome}
        {attempt.durationMs === null ? "" : ` · ${attempt.durationMs} ms`}
      </summary>
      <div className="pair">
        <div>
          <h3>Request</h3>
          <JsonView value={attempt.request} label={`request of ${name}`} />
        </div>
        <div>
          <h3>Response</h3>
          <Verdict code={attempt.responseStatusCode} reason={attempt.responseReason}>
            {attempt.requestId ? (
              <>
                <dt>requestId</dt>
                <dd className="mono">{attempt.requestId}</dd>
              </>
            ) : null}
          </Verdict>
          <JsonView value={attempt.response} label={`response of ${name}`} />
        </div>
      </div>
    </details>
  );
}

/** The field map as the lead was posted with it, editable, and a repost with the edited map. */
function MapEditor(props: {
  readonly initial: Readonly<Record<string, unknown>> | null | undefined;
  readonly onRepost: (map: Record<string, unknown> | undefined) => Promise<void>;
}) {
  const [text, setText] = useState(
    props.initial ? JSON.stringify(props.initial, null, 2) : '{\n  "fields": {}\n}',
  );
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async () => {
    let map: unknown;
    try {
      map = JSON.parse(text);
    } catch (e) {
      setError(`The field map is not JSON: ${(e as Error).message}`);
      return;
    }
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      setError('The field map must be a JSON object, e.g. { "fields": { "Email": "email" } }');
      return;
    }
    setError(undefined);
    await props.onRepost(map as Record<string, unknown>);
  };
  return (
    <section className="card">
      <h2>Field map</h2>
      <p className="hint">
        {props.initial
          ? "The map this lead was posted with. Edit it and repost: the lead is mapped again from its raw input."
          : "This lead was posted without a field map (columns are Marketo fields). Write one to repost with it."}
      </p>
      <textarea
        aria-label="field map"
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={Math.min(24, text.split("\n").length + 1)}
      />
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="button" onClick={submit}>
        Repost with this map
      </button>
    </section>
  );
}

/** One lead: the Request and the Response of every attempt, the catalog's meaning and fix, and Repost. */
export function LeadPage({ id }: { readonly id: number }) {
  const detail = useLoad(() => api<LeadDetail>(`/v1/leads/${id}`), String(id));
  const [confirm, setConfirm] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);

  // Follow a lead on its way (queued or sending): look again each second, for two minutes at most.
  const [polls, setPolls] = useState(0);
  const moving = detail.data?.lead.status === "queued" || detail.data?.lead.status === "sending";
  useEffect(() => {
    if (!moving || polls >= 120) return;
    const timer = setTimeout(() => {
      setPolls((n) => n + 1);
      detail.reload();
    }, 1000);
    return () => clearTimeout(timer);
  }, [moving, polls, detail.reload]);

  const repost = async (map?: Record<string, unknown>) => {
    setConfirm(false);
    setPolls(0);
    try {
      const body = { ids: [id], ...(map ? { map } : {}) };
      const answer = await api<{ reposted: number }>("/v1/repost", { method: "POST", body });
      setNotice(
        answer.reposted === 1
          ? "Queued again; this page follows it."
          : "Not queued: the lead is being sent right now.",
      );
      setFailure(undefined);
      detail.reload();
    } catch (e) {
      setFailure(describeError(e));
    }
  };

  if (detail.error)
    return (
      <p className="error" role="alert">
        {detail.error}
      </p>
    );
  if (!detail.data) return <p aria-busy="true">Loading…</p>;
  const { lead, attempts, explanation } = detail.data;
  const latest = attempts.at(-1);
  return (
    <section>
      <p>
        <a href="#/">← Post-out log</a>
      </p>
      <h1>
        Lead {lead.id} <StatusBadge status={lead.status} />
      </h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd className="email">{lead.email ?? "—"}</dd>
        <dt>Destination</dt>
        <dd>{lead.destination}</dd>
        <dt>Program</dt>
        <dd>{lead.program ?? "—"}</dd>
        <dt>Attempts</dt>
        <dd>{lead.attempts}</dd>
        <dt>MarketoId</dt>
        <dd>{lead.marketoId ?? "—"}</dd>
        {lead.nextAt && lead.status !== "delivered" ? (
          <>
            <dt>Next try</dt>
            <dd>{lead.nextAt}</dd>
          </>
        ) : null}
        {lead.source ? (
          <>
            <dt>Source</dt>
            <dd>
              {lead.source}
              {lead.sourceLine ? `, line ${lead.sourceLine}` : ""}
            </dd>
          </>
        ) : null}
      </dl>

      {explanation ? (
        <section className="card explanation" aria-label="what the code means">
          <h2>
            <span className="highlight bad">{explanation.code}</span>{" "}
            {lead.lastReason ? <span className="reason">{lead.lastReason}</span> : null}
          </h2>
          {explanation.meaning ? <p className="meaning">{explanation.meaning}</p> : null}
          {explanation.fix ? (
            <p className="fix">
              <strong>Fix: </strong>
              {explanation.fix}
            </p>
          ) : null}
          {!explanation.known ? <p>This code is not in Marketo's documented catalog.</p> : null}
        </section>
      ) : null}

      <div className="actions">
        <button type="button" className="primary" onClick={() => setConfirm(true)}>
          Repost
        </button>
        <Outcome notice={notice} failure={failure} />
      </div>

      <h2>Attempts</h2>
      {attempts.length === 0 ? <p className="empty">Not sent yet.</p> : null}
      {attempts.map((a, i) => {
        // Calls the client sent again share their attempt's number: the position tells them apart.
        const of = attempts.filter((x) => x.n === a.n).length;
        const k = attempts.slice(0, i).filter((x) => x.n === a.n).length + 1;
        return (
          <AttemptView
            key={`${a.n}.${k}`}
            attempt={a}
            open={a === latest}
            {...(of > 1 ? { call: { k, of } } : {})}
          />
        );
      })}

      <div className="pair">
        <MapEditor key={lead.id} initial={detail.data.map} onRepost={repost} />
        <section className="card">
          <h2>Raw input</h2>
          <p className="hint">The row exactly as the source sent it; repost maps it again.</p>
          <JsonView value={lead.raw} label="raw input" />
        </section>
      </div>

      <ConfirmDialog
        open={confirm}
        title="Repost this lead"
        confirmLabel="Repost 1"
        onConfirm={() => repost()}
        onCancel={() => setConfirm(false)}
      >
        <p>
          Repost lead {lead.id}? It is mapped again from its raw input with its field map and
          queued; its history is kept.
        </p>
      </ConfirmDialog>
    </section>
  );
}
