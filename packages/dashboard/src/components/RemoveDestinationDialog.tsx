import { useState } from "react";
import { ApiError, api, describeError } from "../api.ts";
import type { LeadsWaiting } from "../types.ts";
import { ConfirmDialog } from "./ConfirmDialog.tsx";

type Step =
  | { readonly kind: "ask" }
  /** The gateway refused: leads still wait. Removing now keeps them paused, or nothing happens. */
  | { readonly kind: "waiting"; readonly leads: LeadsWaiting };

function isLeadsWaiting(body: unknown): body is LeadsWaiting {
  return typeof (body as { total?: unknown } | null)?.total === "number";
}

/** "12 queued, 2 retrying": the waiting leads by status, the empty ones left out. */
function byStatus(waiting: LeadsWaiting["waiting"]): string {
  return Object.entries(waiting)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n.toLocaleString()} ${status}`)
    .join(", ");
}

/**
 * Removing a destination connected here. It asks first; when leads still wait to be sent the
 * gateway refuses, and the dialog then says how many and offers to remove it keeping them
 * paused (sent when a destination of that name is connected again) — never to drop them.
 */
export function RemoveDestinationDialog(props: {
  readonly name: string;
  readonly onRemoved: (held: number) => void;
  readonly onClose: () => void;
  /** The gateway counted waiting leads: the page reads its list again, so its cards agree. */
  readonly onRefused?: () => void;
}) {
  const { name } = props;
  const [step, setStep] = useState<Step>({ kind: "ask" });
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);

  const remove = async (waiting: "refuse" | "pause") => {
    setBusy(true);
    setFailure(undefined);
    try {
      const done = await api<{ removed: string; held: number }>(
        `/v1/destinations/${encodeURIComponent(name)}?waiting=${waiting}`,
        { method: "DELETE" },
      );
      props.onRemoved(done.held);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && isLeadsWaiting(e.body)) {
        setStep({ kind: "waiting", leads: e.body });
        props.onRefused?.();
      } else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const problem = failure ? (
    <p className="error" role="alert">
      {failure}
    </p>
  ) : null;
  if (step.kind === "waiting") {
    const { total, waiting } = step.leads;
    return (
      <ConfirmDialog
        open
        title={`${total.toLocaleString()} ${total === 1 ? "lead is" : "leads are"} waiting for ${name}`}
        confirmLabel="Remove and keep them paused"
        onConfirm={() => remove("pause")}
        onCancel={props.onClose}
        busy={busy}
      >
        <p>
          {total === 1 ? "One lead has" : `${total.toLocaleString()} leads have`} not been sent yet
          ({byStatus(waiting)}).
        </p>
        <p>
          Remove {name} and keep them paused: they are sent when a destination named {name} is
          connected again. Or cancel, and {name} stays connected to send them.
        </p>
        {problem}
      </ConfirmDialog>
    );
  }
  return (
    <ConfirmDialog
      open
      title={`Remove ${name}?`}
      confirmLabel="Remove"
      onConfirm={() => remove("refuse")}
      onCancel={props.onClose}
      busy={busy}
    >
      <p>
        Postout stops sending to {name} and forgets its credentials. Its leads and their post-out
        log stay.
      </p>
      {problem}
    </ConfirmDialog>
  );
}
