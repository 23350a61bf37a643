import { useState } from "react";
import { api, describeError } from "../api.ts";
import { ConnectionResult } from "../components/ConnectionResult.tsx";
import { DestinationCard } from "../components/DestinationCard.tsx";
import { DestinationForm } from "../components/DestinationForm.tsx";
import { RemoveDestinationDialog } from "../components/RemoveDestinationDialog.tsx";
import type { ConnectionReport, Destination } from "../types.ts";
import { useLoad } from "../use-load.ts";

/** What is open on the page: the connect form, one destination's edit form, or nothing. */
type Editing = { readonly kind: "new" } | { readonly kind: "edit"; readonly name: string };

/**
 * Destinations: state, pause/resume, quota gauge with its forecast; connecting a Marketo
 * instance, and editing, testing and removing the ones connected here.
 */
export function DestinationsPage() {
  const list = useLoad(() => api<{ destinations: Destination[] }>("/v1/destinations"), "all");
  // Answers of pause, resume and edit, shown until the list is loaded again.
  const [updated, setUpdated] = useState<ReadonlyMap<string, Destination>>(new Map());
  const [editing, setEditing] = useState<Editing | undefined>(undefined);
  const [removing, setRemoving] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  // The connection test run right after a new destination is saved, so a wrong URL or secret
  // is said at once rather than when its first leads fail.
  const [savedTest, setSavedTest] = useState<ConnectionReport | undefined>(undefined);
  const update = (d: Destination) => setUpdated((m) => new Map(m).set(d.name, d));
  const reload = () => {
    setUpdated(new Map());
    list.reload();
  };

  if (list.error)
    return (
      <p className="error" role="alert">
        {list.error}
      </p>
    );
  return (
    <section>
      <div className="page-head">
        <h1>Destinations</h1>
        {editing?.kind === "new" ? null : (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setNotice(undefined);
              setSavedTest(undefined);
              setEditing({ kind: "new" });
            }}
          >
            Connect a Marketo instance
          </button>
        )}
      </div>
      <p className="notice" role="status">
        {notice}
      </p>
      <div role="status" aria-label="test of the saved destination">
        {savedTest ? <ConnectionResult report={savedTest} /> : null}
      </div>
      {editing?.kind === "new" ? (
        <section className="card connect">
          <DestinationForm
            onSaved={(d) => {
              setEditing(undefined);
              setNotice(`Connected ${d.name}: Postout sends its leads from now on. Testing it…`);
              reload();
              api<ConnectionReport>(`/v1/destinations/${encodeURIComponent(d.name)}/test`, {
                method: "POST",
              }).then(
                (report) => {
                  setNotice(
                    report.ok
                      ? `Connected ${d.name}: Postout sends its leads from now on.`
                      : `Saved ${d.name}, but its connection test failed: leads posted to it wait until the problem below is fixed (Edit).`,
                  );
                  setSavedTest(report);
                },
                (e: unknown) =>
                  setNotice(`Connected ${d.name}; its test failed: ${describeError(e)}`),
              );
            }}
            onCancel={() => setEditing(undefined)}
          />
        </section>
      ) : null}
      {list.data?.destinations.map((listed) => {
        const d = updated.get(listed.name) ?? listed;
        return editing?.kind === "edit" && editing.name === d.name ? (
          <article key={d.name} className="card" aria-label={`destination ${d.name}`}>
            <DestinationForm
              editing={d}
              onSaved={(saved) => {
                setEditing(undefined);
                setNotice(`Saved ${saved.name}.`);
                update(saved);
              }}
              onCancel={() => setEditing(undefined)}
            />
          </article>
        ) : (
          <DestinationCard
            key={d.name}
            destination={d}
            onChange={update}
            onEdit={() => {
              setNotice(undefined);
              setSavedTest(undefined);
              setEditing({ kind: "edit", name: d.name });
            }}
            onRemove={() => {
              setSavedTest(undefined);
              setRemoving(d.name);
            }}
          />
        );
      }) ?? <p aria-busy="true">Loading…</p>}
      {removing ? (
        <RemoveDestinationDialog
          key={removing}
          name={removing}
          onRemoved={(held) => {
            setRemoving(undefined);
            setNotice(
              held > 0
                ? `Removed ${removing}. ${held.toLocaleString()} ${held === 1 ? "lead waits" : "leads wait"} paused until a destination named ${removing} is connected again.`
                : `Removed ${removing}.`,
            );
            reload();
          }}
          onClose={() => setRemoving(undefined)}
          onRefused={reload}
        />
      ) : null}
    </section>
  );
}
