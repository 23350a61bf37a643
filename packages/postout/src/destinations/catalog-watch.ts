import type { Gateway } from "../gateway.ts";

export interface CatalogWatchOptions {
  /**
   * How often the catalog's version is read (one small query); a change is read in full.
   * @default 1000
   */
  readonly intervalMs?: number;
  /** Where changes and failures are said (never with a secret). */
  readonly log: (line: string) => void;
}

/**
 * Keeps the gateway's destinations in step with the catalog, which other processes (the CLI,
 * another `postout serve`) may change: a created destination starts sending, an edited one gets
 * its new client, a removed one stops. Returns the function that stops watching.
 */
export function watchCatalog(gateway: Gateway, options: CatalogWatchOptions): () => void {
  let running = false;
  let failing: string | undefined;
  const sync = async () => {
    if (running) return;
    running = true;
    try {
      const { added, changed, removed } = await gateway.syncDestinations();
      for (const name of added) options.log(`destination ${name} added: sending`);
      for (const name of changed) options.log(`destination ${name} changed: new client`);
      for (const name of removed) options.log(`destination ${name} removed: stopped`);
      if (failing !== undefined) options.log("destinations: catalog read again");
      failing = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== failing) options.log(`destinations: cannot read the catalog: ${message}`);
      failing = message;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(sync, options.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
