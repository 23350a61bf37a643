import type { ConnectionReport } from "../types.ts";

type Problem = Extract<ConnectionReport, { ok: false }>["problem"];

/** What each problem is called, as a person would say it. */
const PROBLEM_TITLE: Readonly<Record<Problem, string>> = {
  "bad-credentials": "Bad credentials",
  "access-denied": "Access denied",
  unreachable: "Unreachable",
  "not-marketo": "Not a Marketo URL",
  quota: "Daily quota used up",
  "marketo-error": "Marketo answered with an error",
};

/** The answer of "Test connection" in words: connected and what it read, or what is wrong. */
export function ConnectionResult(props: {
  readonly report: ConnectionReport;
  /** Said when the saved credentials were tested (the form's secret field was left empty). */
  readonly withStoredSecret?: boolean;
}) {
  const r = props.report;
  const stored = props.withStoredSecret ? " (with the stored secret)" : "";
  if (r.ok) {
    const used =
      r.quotaUsedToday === undefined || r.quotaUsedToday === null
        ? ""
        : `; ${r.quotaUsedToday.toLocaleString()} call${r.quotaUsedToday === 1 ? "" : "s"} used today`;
    return (
      <p className="connection-result good">
        <strong>Connected</strong>
        {stored}: got a token and read {r.leadFields.toLocaleString()} lead fields{used}.
      </p>
    );
  }
  return (
    <p className="connection-result bad">
      <strong>{PROBLEM_TITLE[r.problem]}</strong>
      {stored}: {r.message}
    </p>
  );
}
