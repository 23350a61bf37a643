import type { DestinationConfig } from "../config.ts";
import type { KeySource } from "../secrets/key-source.ts";
import { openSecret, sealSecret } from "../secrets/secret-box.ts";
import type { CatalogEntry, SealedSecret } from "../store/destination-catalog.ts";

/**
 * What a destination's sealed secret is bound to (GCM's associated data): its name, so a sealed
 * secret moved to another row does not open there. Also how messages name it.
 */
export function secretContext(name: string): string {
  return `destination "${name}"`;
}

/** Seals a destination's client secret with the key in use; the catalog is told which key. */
export function sealDestinationSecret(name: string, secret: string, keys: KeySource): SealedSecret {
  const key = keys.current();
  return { sealed: sealSecret(secret, secretContext(name), key), keyId: key.id };
}

/** Opens a destination's sealed client secret; a SecretKeyError names the keys when it cannot. */
export function openDestinationSecret(name: string, sealed: string, keys: KeySource): string {
  return openSecret(
    sealed,
    secretContext(name),
    (id) => keys.find(id),
    keys.currentId() ?? `none (no ${keys.where})`,
  );
}

/**
 * A catalog entry as the gateway runs it, its secret opened. `opened` keeps each name's last
 * sealed text and secret: a catalog read again after another destination changed opens only
 * the secrets that changed (a thousand destinations, one added: one decryption, not a thousand).
 */
export function configOfEntry(
  entry: CatalogEntry,
  keys: KeySource,
  opened?: Map<string, { readonly sealed: string; readonly secret: string }>,
): DestinationConfig {
  const known = opened?.get(entry.name);
  const clientSecret =
    known?.sealed === entry.sealedSecret
      ? known.secret
      : openDestinationSecret(entry.name, entry.sealedSecret, keys);
  opened?.set(entry.name, { sealed: entry.sealedSecret, secret: clientSecret });
  return {
    name: entry.name,
    baseUrl: entry.baseUrl,
    clientId: entry.clientId,
    clientSecret,
    callsPer20s: entry.callsPer20s,
    concurrency: entry.concurrency,
    ...(entry.dailyBudget === undefined ? {} : { dailyBudget: entry.dailyBudget }),
    ...(entry.markerField === undefined ? {} : { markerField: entry.markerField }),
  };
}

/** Whether two configs would run differently (credentials, limits, budget, marker field). */
export function sameConfig(a: DestinationConfig, b: DestinationConfig): boolean {
  return (
    a.baseUrl === b.baseUrl &&
    a.clientId === b.clientId &&
    a.clientSecret === b.clientSecret &&
    a.callsPer20s === b.callsPer20s &&
    a.concurrency === b.concurrency &&
    a.dailyBudget === b.dailyBudget &&
    a.markerField === b.markerField
  );
}
