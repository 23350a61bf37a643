import { useEffect, useState } from "react";

/** How often the gateway's health is read while the dashboard is open. */
const EVERY_MS = 10_000;

/**
 * A banner while the gateway's database cannot keep leads (deleted, replaced, unwritable,
 * full): `/healthz` answers 503 with the cause, intake refuses, and nothing is sent. Without
 * it the log would look as usual, read from a file that is gone.
 */
export function StoreFault() {
  const [fault, setFault] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const look = async () => {
      try {
        const res = await fetch("/healthz", { credentials: "same-origin" });
        const body = (await res.json()) as { status?: string; error?: string };
        if (live)
          setFault(res.status === 503 ? (body.error ?? "the database is failing") : undefined);
      } catch {
        // The gateway itself is unreachable: the pages' own requests say so.
      }
    };
    void look();
    const timer = setInterval(look, EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  if (fault === undefined) return null;
  return (
    <div className="store-fault" role="alert">
      <strong>Leads are not being accepted or sent.</strong> {fault}
    </div>
  );
}
