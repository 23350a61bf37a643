import { type FormEvent, useState } from "react";
import { api, describeError, query } from "../api.ts";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { Outcome } from "../components/Outcome.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { timeProblem } from "../filter-time.ts";
import { go } from "../hash-route.ts";
import { repostableCount } from "../repost-count.ts";
import { type Lead, type LeadPage, STATUSES } from "../types.ts";
import { useLoad } from "../use-load.ts";

const FILTERS = [
  "status",
  "code",
  "attemptCode",
  "destination",
  "program",
  "email",
  "since",
  "until",
] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(params: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v) filters[f] = v;
  }
  return filters;
}

/** The repost API's filter: lists where the list's query takes comma-separated text. */
function filterBody(filters: Filters) {
  const list = (v: string | undefined) =>
    v
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    ...(filters.status ? { status: list(filters.status) } : {}),
    ...(filters.code ? { code: list(filters.code) } : {}),
    ...(filters.attemptCode ? { attemptCode: list(filters.attemptCode) } : {}),
    ...(filters.destination ? { destination: filters.destination } : {}),
    ...(filters.program ? { program: filters.program } : {}),
    ...(filters.email ? { email: filters.email } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
  };
}

function when(iso: string | null): string {
  return iso ? iso.replace("T", " ").slice(0, 19) : "—";
}

/** Where the lead goes: destination, endpoint and program (the request itself is on its page). */
function whereTo(lead: Lead): string {
  return [lead.destination, lead.route.endpoint, lead.program].filter(Boolean).join(" · ");
}

/** One line cut to the column's width, whole in its tooltip. */
function Clipped(props: { readonly text: string; readonly className?: string }) {
  return (
    <span
      className={props.className ? `clip-line ${props.className}` : "clip-line"}
      title={props.text}
    >
      {props.text}
    </span>
  );
}

type Pending = { readonly kind: "selected"; readonly ids: number[] } | { readonly kind: "filter" };

/** The most leads the list shows by id (the API's page size): a bigger repost lists its newest. */
const MAX_LISTED = 500;

/** The post-out log: the report's columns, filters, counts per status, paging on the server, bulk repost. */
export function LogPage({ params }: { readonly params: URLSearchParams }) {
  const filters = filtersOf(params);
  const cursor = params.get("cursor") ?? undefined;
  const key = params.toString();
  // A time the gateway would refuse is named here, with its field, before any request.
  const timeProblems = [timeProblem("Since", filters.since), timeProblem("Until", filters.until)];
  const badTime = timeProblems.filter((p) => p !== undefined).join(" ");
  // The leads a repost just queued: listed by id, as they are now, in place of the filter that
  // found them (which, by status or code, no longer matches a lead queued again).
  const [reposted, setReposted] = useState<readonly number[] | undefined>(undefined);
  const listed = reposted?.slice(0, MAX_LISTED);
  const page = useLoad(
    () =>
      listed
        ? api<LeadPage>(`/v1/leads${query({ ids: listed.join(","), limit: String(MAX_LISTED) })}`)
        : badTime
          ? Promise.reject(new Error(badTime))
          : api<LeadPage>(`/v1/leads${query({ ...filters, cursor, limit: "50" })}`),
    listed ? `${key}&reposted=${listed.join(",")}` : key,
  );
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);

  const navigate = (next: Filters & { cursor?: string }) => {
    setSelected(new Set());
    go(`#/${query(next)}`);
  };
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next: Filters = {};
    for (const f of FILTERS) {
      const v = String(form.get(f) ?? "").trim();
      if (v) next[f] = v;
    }
    navigate(next);
  };

  const counts = page.data?.counts ?? {};
  const matching = repostableCount(counts, listed ? undefined : filters.status);
  const leads = page.data?.leads ?? [];
  const allOnPage = leads.length > 0 && leads.every((l) => selected.has(l.id));

  const repost = async () => {
    const body =
      pending?.kind === "selected"
        ? { ids: pending.ids }
        : listed
          ? { ids: listed }
          : Object.keys(filterBody(filters)).length > 0
            ? { filter: filterBody(filters) }
            : { all: true };
    setPending(undefined);
    try {
      const answer = await api<{ reposted: number; ids: number[] }>("/v1/repost", {
        method: "POST",
        body,
      });
      setNotice(`Queued ${answer.reposted} lead${answer.reposted === 1 ? "" : "s"} again.`);
      setFailure(undefined);
      setSelected(new Set());
      if (answer.ids.length > 0) setReposted([...answer.ids].sort((a, b) => b - a));
      page.reload();
    } catch (e) {
      setFailure(describeError(e));
    }
  };

  return (
    <section>
      <h1>Post-out log</h1>
      <form className="filters" onSubmit={onSubmit} key={key}>
        <label>
          Email contains
          <input name="email" type="search" defaultValue={filters.email ?? ""} />
        </label>
        <label>
          Status
          <select name="status" defaultValue={filters.status ?? ""}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label title="the lead's last ResponseStatusCode">
          Last code
          <input name="code" placeholder="1006,606" defaultValue={filters.code ?? ""} />
        </label>
        <label title="a code any of the lead's calls was answered, a call tried again among them">
          Code in any call
          <input name="attemptCode" placeholder="503" defaultValue={filters.attemptCode ?? ""} />
        </label>
        <label>
          Program
          <input name="program" defaultValue={filters.program ?? ""} />
        </label>
        <label>
          Destination
          <input name="destination" defaultValue={filters.destination ?? ""} />
        </label>
        <label>
          Since
          <input
            name="since"
            placeholder="2026-11-23"
            defaultValue={filters.since ?? ""}
            aria-invalid={timeProblems[0] !== undefined}
          />
        </label>
        <label>
          Until
          <input
            name="until"
            placeholder="2026-11-23T18:00Z"
            defaultValue={filters.until ?? ""}
            aria-invalid={timeProblems[1] !== undefined}
          />
        </label>
        <button type="submit" className="primary">
          Filter
        </button>
        <button type="button" onClick={() => navigate({})}>
          Clear
        </button>
      </form>

      <nav className="counts" aria-label="counts by status">
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            className={filters.status === s ? "count active" : "count"}
            onClick={() => navigate({ ...filters, status: s })}
          >
            <StatusBadge status={s} /> <strong>{counts[s] ?? 0}</strong>
          </button>
        ))}
      </nav>

      <div className="bulk">
        <button
          type="button"
          disabled={selected.size === 0}
          onClick={() => setPending({ kind: "selected", ids: [...selected] })}
        >
          Repost selected ({selected.size})
        </button>
        <button
          type="button"
          disabled={matching === 0}
          onClick={() => setPending({ kind: "filter" })}
        >
          {listed ? "Repost all listed" : "Repost all matching this filter"} ({matching})
        </button>
        <Outcome notice={notice} failure={failure} />
      </div>
      {reposted && listed ? (
        <p className="listed-note">
          Listed: {listed.length < reposted.length ? `the newest ${listed.length} of ` : ""}
          the {reposted.length === 1 ? "lead" : `${reposted.length} leads`} just reposted, as{" "}
          {reposted.length === 1 ? "it is" : "they are"} now.{" "}
          <button type="button" onClick={page.reload}>
            Refresh
          </button>{" "}
          <button
            type="button"
            onClick={() => {
              setReposted(undefined);
              setSelected(new Set());
              setNotice(undefined);
            }}
          >
            Back to the filter
          </button>
        </p>
      ) : null}

      {page.error ? (
        <p className="error" role="alert">
          {page.error}
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="log" aria-busy={page.loading}>
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="select every lead on this page"
                  checked={allOnPage}
                  onChange={() =>
                    setSelected(allOnPage ? new Set() : new Set(leads.map((l) => l.id)))
                  }
                />
              </th>
              <th>LeadId</th>
              <th>Email</th>
              <th>Status</th>
              <th title="ResponseStatusCode">Code</th>
              <th title="ResponseReason">Reason</th>
              <th>Fix</th>
              <th>Attempts</th>
              <th title="UpdatedAt">Updated</th>
            </tr>
          </thead>
          <tbody>
            {leads.map((lead) => (
              <tr key={lead.id} data-lead={lead.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select lead ${lead.id}`}
                    checked={selected.has(lead.id)}
                    onChange={() => {
                      const next = new Set(selected);
                      if (!next.delete(lead.id)) next.add(lead.id);
                      setSelected(next);
                    }}
                  />
                </td>
                <td>
                  <a href={`#/leads/${lead.id}`}>{lead.id}</a>
                </td>
                <td className="email">
                  <Clipped text={lead.email ?? "—"} />
                  <Clipped className="where" text={whereTo(lead)} />
                </td>
                <td>
                  <StatusBadge status={lead.status} />
                </td>
                <td className="code">{lead.lastCode ?? "—"}</td>
                <td className="log-reason">
                  <span className="clamp" title={lead.lastReason ?? undefined}>
                    {lead.lastReason ?? "—"}
                  </span>
                </td>
                <td className="log-fix">{lead.fix ?? ""}</td>
                <td className="num">{lead.attempts}</td>
                <td className="mono">{when(lead.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!page.loading && !page.error && leads.length === 0 ? (
          <p className="empty">No lead matches this filter.</p>
        ) : null}
      </div>
      {listed ? null : (
        <div className="pager">
          <button type="button" disabled={!cursor} onClick={() => navigate(filters)}>
            First page
          </button>
          <button
            type="button"
            disabled={!page.data?.nextCursor}
            onClick={() => navigate({ ...filters, cursor: page.data?.nextCursor ?? "" })}
          >
            Next page
          </button>
        </div>
      )}

      <ConfirmDialog
        open={pending !== undefined}
        title="Repost leads"
        confirmLabel={
          pending?.kind === "selected" ? `Repost ${pending.ids.length}` : `Repost ${matching}`
        }
        onConfirm={repost}
        onCancel={() => setPending(undefined)}
      >
        <p>
          {pending?.kind === "selected"
            ? `Repost ${pending.ids.length} selected lead${pending.ids.length === 1 ? "" : "s"}?`
            : `Repost all ${matching} lead${matching === 1 ? "" : "s"} ${listed ? "listed" : "matching this filter"}?`}{" "}
          Each is mapped again from its raw input with its field map and queued; its history is
          kept. Leads being sent right now are left alone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
