import { useCallback, useEffect, useState } from "react";
import { describeError } from "./api.ts";

type Loaded<T> =
  | { readonly key: string; readonly data: T; readonly error?: undefined }
  | { readonly key: string; readonly data?: T; readonly error: string };

/**
 * Loads data when `key` changes; `reload` loads again. A newer load wins over an older one,
 * and what was loaded for another key is never returned: a new filter shows no rows (and no
 * counts to act on) until its own answer is in.
 */
export function useLoad<T>(load: () => Promise<T>, key: string) {
  const [loaded, setLoaded] = useState<Loaded<T> | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names what `load` reads
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (data) => {
        if (!current) return;
        setLoaded({ key, data });
        setLoading(false);
      },
      (e: unknown) => {
        if (!current) return;
        // A failed reload keeps the data of the same key; a failed new key shows none.
        setLoaded((prev) => ({
          key,
          ...(prev?.key === key && prev.data !== undefined ? { data: prev.data } : {}),
          error: describeError(e),
        }));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const mine = loaded?.key === key ? loaded : undefined;
  return { data: mine?.data, error: mine?.error, loading: loading || mine === undefined, reload };
}
