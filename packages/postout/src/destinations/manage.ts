import { notCatalogKeyError } from "../secrets/errors.ts";
import type { KeySource } from "../secrets/key-source.ts";
import type {
  CatalogChange,
  CatalogEntry,
  DestinationCatalog,
} from "../store/destination-catalog.ts";
import {
  DestinationTakenError,
  HeldForAnotherInstanceError,
  InstanceChangeError,
  LeadsWaitingError,
  ReadOnlyDestinationError,
  UnknownDestinationError,
} from "./errors.ts";
import type { DestinationChange, DestinationCreate } from "./input.ts";
import { sealDestinationSecret } from "./stored.ts";

/** A pause without an end: the held leads wait until the name is created again. */
const UNTIL_CREATED_AGAIN = Number.MAX_SAFE_INTEGER;

/** What changing the catalog needs: the store, the key, and the names it may not touch. */
export interface CatalogAccess {
  readonly catalog: DestinationCatalog;
  readonly keys: KeySource;
  /** The destinations of the config file and environment: read-only here, their names taken. */
  readonly configNames: ReadonlySet<string>;
  readonly now: () => number;
}

/**
 * Creates a destination, its secret sealed. Re-creating a removed name for the same Marketo
 * instance makes its held leads due; for another instance it is refused while leads are held.
 * A secret sealed with another key than the catalog's (this process still runs with a key a
 * rotation retired) is refused with a SecretKeyError (`not-catalog-key`).
 */
export async function createDestination(
  access: CatalogAccess,
  input: DestinationCreate,
): Promise<{ readonly entry: CatalogEntry; readonly resumed: number }> {
  if (access.configNames.has(input.name)) throw new DestinationTakenError(input.name, "config");
  const secret = sealDestinationSecret(input.name, input.clientSecret, access.keys);
  const added = await access.catalog.addCatalogEntry(
    {
      name: input.name,
      baseUrl: input.baseUrl,
      clientId: input.clientId,
      secret,
      callsPer20s: input.callsPer20s,
      concurrency: input.concurrency,
      dailyBudget: input.dailyBudget,
      markerField: input.markerField,
    },
    access.now(),
  );
  if ("taken" in added) throw new DestinationTakenError(input.name, "api");
  if ("heldFor" in added) throw new HeldForAnotherInstanceError(input.name, added.heldFor);
  if ("catalogKey" in added) throw notCatalogKeyError(access.keys, secret.keyId, added.catalogKey);
  return added;
}

/**
 * Changes a catalog destination; the secret is kept unless a new one is given (refused, as by
 * createDestination, when this process's key is not the catalog's). A move to another Marketo
 * instance (base URL) while leads wait is refused with InstanceChangeError; the store counts them
 * and changes in one transaction, so a lead stored between a count and the change cannot slip by.
 */
export async function editDestination(
  access: CatalogAccess,
  name: string,
  input: DestinationChange,
): Promise<CatalogEntry> {
  if (access.configNames.has(name)) throw new ReadOnlyDestinationError(name);
  const change: { -readonly [K in keyof CatalogChange]: CatalogChange[K] } = {};
  if (input.baseUrl !== undefined) change.baseUrl = input.baseUrl;
  if (input.clientId !== undefined) change.clientId = input.clientId;
  if (input.clientSecret !== undefined)
    change.secret = sealDestinationSecret(name, input.clientSecret, access.keys);
  if (input.callsPer20s !== undefined) change.callsPer20s = input.callsPer20s;
  if (input.concurrency !== undefined) change.concurrency = input.concurrency;
  if (input.dailyBudget !== undefined) change.dailyBudget = input.dailyBudget;
  if (input.markerField !== undefined) change.markerField = input.markerField;
  const updated = await access.catalog.updateCatalogEntry(name, change, access.now());
  if (!updated) throw unknown(name);
  if ("waitingFor" in updated) throw new InstanceChangeError(name, updated.waitingFor);
  if ("catalogKey" in updated)
    throw notCatalogKeyError(access.keys, change.secret?.keyId ?? "", updated.catalogKey);
  return updated.entry;
}

/**
 * Removes a catalog destination. With leads waiting, `refuse` throws LeadsWaitingError (naming
 * how many and the two choices); `pause` holds them paused until the name is created again.
 * Resolves to how many leads were held.
 */
export async function removeDestination(
  access: CatalogAccess,
  name: string,
  waiting: "refuse" | "pause",
): Promise<number> {
  if (access.configNames.has(name)) throw new ReadOnlyDestinationError(name);
  const result = await access.catalog.removeCatalogEntry(name, {
    waiting: waiting === "pause" ? "hold" : "refuse",
    now: access.now(),
    hold: {
      until: UNTIL_CREATED_AGAIN,
      reason: `the destination "${name}" was removed; its leads wait paused until a destination of this name is created again`,
    },
  });
  if (!result) throw unknown(name);
  if (!result.removed) throw new LeadsWaitingError(name, result.waiting, result.total);
  return result.held;
}

/** A catalog destination, or UnknownDestinationError. */
export async function storedDestination(
  access: Pick<CatalogAccess, "catalog">,
  name: string,
): Promise<CatalogEntry> {
  const entry = await access.catalog.getCatalogEntry(name);
  if (!entry) throw unknown(name);
  return entry;
}

function unknown(name: string): UnknownDestinationError {
  return new UnknownDestinationError(`no destination named "${name}"`, name);
}
