import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api, describeError } from "../api.ts";
import {
  changeBody,
  createBody,
  type DestinationFields,
  EMPTY_FIELDS,
  type FieldErrors,
  type FieldName,
  fieldErrorsOf,
  fieldsOf,
} from "../destination-input.ts";
import type { ConnectionReport, Destination } from "../types.ts";
import { ConnectionResult } from "./ConnectionResult.tsx";
import { TextField } from "./TextField.tsx";

/** The fields a connection test depends on: changing one makes an earlier result stale. */
const CONNECTION_FIELDS: ReadonlySet<FieldName> = new Set(["baseUrl", "clientId", "clientSecret"]);

type Tested = { readonly report: ConnectionReport; readonly withStoredSecret: boolean };

/**
 * "Connect a Marketo instance": a new destination, or the settings of one connected here.
 * "Test connection" tries the form's credentials before anything is saved; "Save" creates or
 * changes it. A problem the gateway finds is shown next to the field it names.
 */
export function DestinationForm(props: {
  /** The destination being edited; none to connect a new one. */
  readonly editing?: Destination | undefined;
  readonly onSaved: (destination: Destination) => void;
  readonly onCancel: () => void;
}) {
  const editing = props.editing;
  const [fields, setFields] = useState<DestinationFields>(
    editing ? fieldsOf(editing) : EMPTY_FIELDS,
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const [tested, setTested] = useState<Tested | undefined>(undefined);
  const [busy, setBusy] = useState<"testing" | "saving" | undefined>(undefined);
  // The secret is read from the input, never held in state: React writes a controlled input's
  // value into its `value` attribute, and the secret must not be in the page's markup.
  const secretRef = useRef<HTMLInputElement>(null);
  const firstRef = useRef<HTMLInputElement>(null);
  const secret = () => secretRef.current?.value ?? "";

  useEffect(() => {
    firstRef.current?.focus();
  }, []);

  const changed = (name: FieldName) => {
    setErrors(({ [name]: _gone, form: _form, ...rest }) => rest);
    if (CONNECTION_FIELDS.has(name)) setTested(undefined);
  };
  const field = (name: keyof DestinationFields) => ({
    name,
    value: fields[name],
    onChange: (e: { currentTarget: HTMLInputElement }) => {
      const value = e.currentTarget.value;
      setFields((f) => ({ ...f, [name]: value }));
      changed(name);
    },
  });

  /** Shows a failed request: issues at their fields, a taken name at the name. */
  const failed = (e: unknown) => {
    if (e instanceof ApiError && e.status === 400) setErrors(fieldErrorsOf(e.message, e.issues));
    else if (e instanceof ApiError && e.status === 409 && !editing) setErrors({ name: e.message });
    else setErrors({ form: describeError(e) });
  };

  const testConnection = async () => {
    setTested(undefined);
    // Editing with the secret left empty: the stored secret can be tested only with the stored
    // URL and client id (the gateway never gives the secret back to combine it with new ones).
    const stored = editing !== undefined && secret() === "";
    if (
      stored &&
      (fields.baseUrl !== fieldsOf(editing).baseUrl ||
        fields.clientId !== fieldsOf(editing).clientId)
    ) {
      setErrors({
        clientSecret: "enter the secret to test a changed URL or client id (or save, then test)",
      });
      return;
    }
    const draft = createBody(fields, secret());
    if ("errors" in draft) {
      setErrors(draft.errors);
      return;
    }
    setBusy("testing");
    try {
      const report = stored
        ? await api<ConnectionReport>(`/v1/destinations/${encodeURIComponent(editing.name)}/test`, {
            method: "POST",
          })
        : await api<ConnectionReport>("/v1/destinations/test", {
            method: "POST",
            body: draft.body,
          });
      setErrors({});
      setTested({ report, withStoredSecret: stored });
    } catch (e) {
      failed(e);
    } finally {
      setBusy(undefined);
    }
  };

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input = editing ? changeBody(fields, secret()) : createBody(fields, secret());
    if ("errors" in input) {
      setErrors(input.errors);
      return;
    }
    setBusy("saving");
    try {
      const saved = editing
        ? await api<Destination>(`/v1/destinations/${encodeURIComponent(editing.name)}`, {
            method: "PATCH",
            body: input.body,
          })
        : await api<Destination>("/v1/destinations", { method: "POST", body: input.body });
      if (secretRef.current) secretRef.current.value = "";
      props.onSaved(saved);
    } catch (e) {
      failed(e);
    } finally {
      setBusy(undefined);
    }
  };

  const title = editing ? `Edit ${editing.name}` : "Connect a Marketo instance";
  const fieldProblems = Object.keys(errors).filter((k) => k !== "form").length;
  return (
    <form className="destination-form" aria-label={title} onSubmit={save} noValidate>
      <h2>{title}</h2>
      <p className="hint">
        The REST base URL is in Marketo under Admin → Web Services; the client id and secret under
        Admin → LaunchPoint → View Details of the custom service Postout calls as.
      </p>
      <fieldset>
        <legend>Marketo instance</legend>
        <TextField
          label="Name"
          hint={
            editing
              ? "A destination keeps its name."
              : "How leads choose this instance (their destination): letters, digits, _ . -"
          }
          error={errors.name}
          input={{
            ...field("name"),
            readOnly: editing !== undefined,
            autoComplete: "off",
            spellCheck: false,
            placeholder: "acme",
            ...(editing ? {} : { ref: firstRef }),
          }}
        />
        <TextField
          label="REST base URL"
          hint="Admin → Web Services → REST API → Endpoint."
          error={errors.baseUrl}
          input={{
            ...field("baseUrl"),
            type: "url",
            autoComplete: "off",
            spellCheck: false,
            placeholder: "https://123-ABC-456.mktorest.com",
            ...(editing ? { ref: firstRef } : {}),
          }}
        />
        <TextField
          label="Client id"
          error={errors.clientId}
          input={{ ...field("clientId"), autoComplete: "off", spellCheck: false }}
        />
        <TextField
          label="Client secret"
          hint={
            editing
              ? "Leave empty to keep the stored secret."
              : "Stored encrypted; never shown again, not even here."
          }
          error={errors.clientSecret}
          input={{
            name: "clientSecret",
            type: "password",
            ref: secretRef,
            autoComplete: "new-password",
            onChange: () => changed("clientSecret"),
          }}
        />
      </fieldset>
      <fieldset className="limits">
        <legend>Postout's share of the instance's limits</legend>
        <TextField
          label="Calls per 20 s"
          hint="Of Marketo's 100 per instance, shared with every other app calling it. Empty: all 100."
          error={errors.callsPer20s}
          input={{ ...field("callsPer20s"), inputMode: "numeric", placeholder: "100" }}
        />
        <TextField
          label="Concurrent calls"
          hint="Of Marketo's 10 at once per instance. Empty: all 10."
          error={errors.concurrency}
          input={{ ...field("concurrency"), inputMode: "numeric", placeholder: "10" }}
        />
        <TextField
          label="Daily call budget"
          hint="Calls a day Postout may spend of the instance's quota. Empty: no budget of its own."
          error={errors.dailyBudget}
          input={{ ...field("dailyBudget"), inputMode: "numeric", placeholder: "no budget" }}
        />
      </fieldset>
      <fieldset>
        <legend>Exactly once (optional)</legend>
        <TextField
          label="Marker field"
          hint="A text lead field Postout writes its own id into on creates, so a create cut off mid-call is found again, not made twice."
          error={errors.markerField}
          input={{
            ...field("markerField"),
            autoComplete: "off",
            spellCheck: false,
            placeholder: "postoutId",
          }}
        />
      </fieldset>
      <div className="connection-status" role="status" aria-label="connection test result">
        {busy === "testing" ? <p className="hint">Testing the connection…</p> : null}
        {tested ? (
          <ConnectionResult report={tested.report} withStoredSecret={tested.withStoredSecret} />
        ) : null}
      </div>
      {errors.form ? (
        <p className="error" role="alert">
          {errors.form}
        </p>
      ) : fieldProblems > 0 ? (
        <p className="error" role="alert">
          {fieldProblems === 1 ? "One field needs" : `${fieldProblems} fields need`} a change: see
          above.
        </p>
      ) : null}
      <div className="actions">
        <button type="button" onClick={testConnection} disabled={busy !== undefined}>
          {busy === "testing" ? "Testing…" : "Test connection"}
        </button>
        <button type="submit" className="primary" disabled={busy !== undefined}>
          {busy === "saving" ? "Saving…" : "Save"}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
