import { type FormEvent, Fragment, useState } from "react";
import { api, describeError } from "../api.ts";
import { JsonView } from "../components/JsonView.tsx";
import { Verdict } from "../components/Verdict.tsx";
import type { TestIntegrationResult } from "../types.ts";

const EXAMPLE_LEAD = `{
  "email": "test.lead@example.com",
  "firstName": "Test",
  "lastName": "Lead",
  "company": "Example Inc"
}`;

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Test Integration (seed 003's modal): send one lead now and see the Request and the Response. */
export function TestPage() {
  const [endpoint, setEndpoint] = useState<"syncLeads" | "pushLeads">("syncLeads");
  const [result, setResult] = useState<TestIntegrationResult | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    try {
      const lead = parseObject(text("lead"), "The lead");
      const map = text("map") === "" ? undefined : parseObject(text("map"), "The field map");
      const route =
        endpoint === "syncLeads"
          ? { endpoint, action: text("action"), lookupField: text("lookupField") || "email" }
          : {
              endpoint,
              programName: text("programName"),
              ...(text("programStatus") ? { programStatus: text("programStatus") } : {}),
              ...(text("source") ? { source: text("source") } : {}),
              ...(text("reason") ? { reason: text("reason") } : {}),
            };
      setBusy(true);
      setResult(
        await api<TestIntegrationResult>("/v1/test-integration", {
          method: "POST",
          body: { route, lead, ...(map ? { map } : {}) },
        }),
      );
      setFailure(undefined);
    } catch (e) {
      setFailure(describeError(e));
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Test integration</h1>
      <p className="hint">
        Sends one lead through mapping and routing to Marketo now. It is kept in the log as a test.
      </p>
      <form className="test-form" onSubmit={onSubmit}>
        <fieldset>
          <legend>Routing</legend>
          <label>
            Endpoint
            <select
              name="endpoint"
              value={endpoint}
              onChange={(e) => setEndpoint(e.target.value as "syncLeads" | "pushLeads")}
            >
              <option value="syncLeads">Sync Leads</option>
              <option value="pushLeads">Push Lead to a program</option>
            </select>
          </label>
          {/* Keyed by endpoint: each route's fields are new inputs, so none keeps the
              other's value (the lookup field's "email" stayed in Program status). */}
          {endpoint === "syncLeads" ? (
            <Fragment key="syncLeads">
              <label>
                Action
                <select name="action" defaultValue="createOrUpdate">
                  <option>createOrUpdate</option>
                  <option>createOnly</option>
                  <option>updateOnly</option>
                  <option>createDuplicate</option>
                </select>
              </label>
              <label>
                Lookup field
                <input name="lookupField" defaultValue="email" />
              </label>
            </Fragment>
          ) : (
            <Fragment key="pushLeads">
              <label>
                Program name
                <input name="programName" required />
              </label>
              <label>
                Program status
                <input name="programStatus" placeholder="Registered" />
              </label>
              <label>
                Source
                <input name="source" />
              </label>
              <label>
                Reason
                <input name="reason" />
              </label>
            </Fragment>
          )}
        </fieldset>
        <label>
          Lead (JSON: column → value)
          <textarea name="lead" rows={7} defaultValue={EXAMPLE_LEAD} spellCheck={false} />
        </label>
        <label>
          Field map (optional JSON; without it, columns are Marketo fields)
          <textarea name="map" rows={4} spellCheck={false} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Sending…" : "Send test lead"}
        </button>
      </form>
      {failure ? (
        <p className="error" role="alert">
          {failure}
        </p>
      ) : null}
      {result ? (
        <section className="pair" aria-label="test result">
          <div>
            <h2>Request</h2>
            <p className="mono">{result.endpoint ?? "—"}</p>
            <JsonView value={result.request} label="test request" />
          </div>
          <div>
            <h2>Response</h2>
            <Verdict code={result.responseStatusCode} reason={result.responseReason}>
              {result.fix ? (
                <>
                  <dt>Fix</dt>
                  <dd className="fix">{result.fix}</dd>
                </>
              ) : null}
            </Verdict>
            <JsonView value={result.response} label="test response" />
            <p>
              <a href={`#/leads/${result.leadId}`}>Open it in the log (lead {result.leadId})</a>
            </p>
          </div>
        </section>
      ) : null}
    </section>
  );
}
