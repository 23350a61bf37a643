import type { DestinationConfig } from "../config.ts";
import type { CatalogEntry } from "../store/destination-catalog.ts";

/** Where a destination is defined: the config file or environment (read-only), or the catalog. */
export type DestinationSource = "config" | "api";

/** A destination's settings as people may see them: everything but the client secret. */
export interface DestinationSettings {
  readonly source: DestinationSource;
  /** `undefined` for the built-in sandbox before it runs. */
  readonly baseUrl: string | undefined;
  readonly clientId: string | undefined;
  readonly callsPer20s: number | undefined;
  readonly concurrency: number | undefined;
  readonly dailyBudget: number | undefined;
  readonly markerField: string | undefined;
  /** Catalog entries only. */
  readonly createdAt?: number;
  readonly updatedAt?: number;
}

export function settingsOfConfig(config: DestinationConfig): DestinationSettings {
  return {
    source: "config",
    baseUrl: config.baseUrl,
    clientId: config.clientId,
    callsPer20s: config.callsPer20s,
    concurrency: config.concurrency,
    dailyBudget: config.dailyBudget,
    markerField: config.markerField,
  };
}

export function settingsOfEntry(entry: CatalogEntry): DestinationSettings {
  return {
    source: "api",
    baseUrl: entry.baseUrl,
    clientId: entry.clientId,
    callsPer20s: entry.callsPer20s,
    concurrency: entry.concurrency,
    dailyBudget: entry.dailyBudget,
    markerField: entry.markerField,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}

/** The JSON of a destination's settings (API and `--json`): never a secret, `null` for unset. */
export function settingsView(settings: DestinationSettings) {
  const time = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    source: settings.source,
    baseUrl: settings.baseUrl ?? null,
    clientId: settings.clientId ?? null,
    limits: {
      callsPer20s: settings.callsPer20s ?? null,
      concurrency: settings.concurrency ?? null,
    },
    dailyBudget: settings.dailyBudget ?? null,
    markerField: settings.markerField ?? null,
    createdAt: time(settings.createdAt),
    updatedAt: time(settings.updatedAt),
  };
}
