import type { Store } from "./store.ts";

export interface HealthWatchOptions {
  /** How often the store is checked, with a small probe write. @default 10_000 */
  readonly intervalMs?: number;
  /** Where a change of health is said. */
  readonly log: (line: string) => void;
}

/**
 * Checks the store's health periodically (a full disk or a deleted file is found before intake
 * runs into it) and logs each change, once. Returns the function that stops it.
 */
export function watchStoreHealth(store: Store, options: HealthWatchOptions): () => void {
  let failing: string | undefined;
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const problem = await store.health({ probe: true });
      if (problem && problem.message !== failing) options.log(`store failing: ${problem.message}`);
      if (!problem && failing !== undefined) options.log("store healthy again: intake resumes");
      failing = problem?.message;
    } catch (error) {
      options.log(`store health check failed: ${error instanceof Error ? error.message : error}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(check, options.intervalMs ?? 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
