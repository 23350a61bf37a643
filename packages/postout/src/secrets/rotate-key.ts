import { existsSync, readFileSync } from "node:fs";
import { secretContext } from "../destinations/stored.ts";
import type { DestinationCatalog } from "../store/destination-catalog.ts";
import { SecretKeyError } from "./errors.ts";
import { FileKeySource, type KeySource } from "./key-source.ts";
import {
  newSecretKey,
  openSecret,
  parseSecretKey,
  type SecretKey,
  sealedKeyId,
  sealSecret,
} from "./secret-box.ts";

export interface Rotation {
  /** Secrets re-sealed, removed destinations' too. */
  readonly resealed: number;
  /** The id of the key before, if there was one. */
  readonly from: string | undefined;
  readonly to: string;
}

/**
 * Re-seals every catalog secret under a new key, in one transaction. With a key file, the new
 * key is written beside it (`.next`) first and renamed over it after the commit, so a crash at
 * any moment leaves every secret with a readable key. With `POSTOUT_SECRET_KEY`, the new key is
 * given (`newKey`) and the person switches the variable afterwards.
 */
export async function rotateKey(
  catalog: DestinationCatalog,
  keys: KeySource,
  options: { readonly newKey?: SecretKey; readonly now: number },
): Promise<Rotation> {
  if (keys instanceof FileKeySource) return rotateFile(catalog, keys, options.now);
  const next = options.newKey;
  if (!next) {
    throw new SecretKeyError(
      "bad-key",
      `the key comes from ${keys.where}: give the new key in another variable (--new-key-env NAME), then set ${keys.where} to it`,
    );
  }
  const old = keys.current();
  if (old.id === next.id) {
    throw new SecretKeyError("bad-key", `the new key is the key in use (${old.id})`);
  }
  const resealed = await catalog.resealCatalog(resealWith([old], next), options.now);
  return { resealed, from: old.id, to: next.id };
}

async function rotateFile(
  catalog: DestinationCatalog,
  keys: FileKeySource,
  now: number,
): Promise<Rotation> {
  const fromId = keys.currentId();
  const old = keys.current();
  if (existsSync(keys.nextPath)) {
    // A rotation stopped between its commit and its rename: secrets may be sealed with the staged
    // key. Bring them all under the current key before staging another.
    const staged = parseSecretKey(
      readFileSync(keys.nextPath, "utf8"),
      `the key file ${keys.nextPath}`,
    );
    await catalog.resealCatalog(resealWith([old, staged], old), now);
    keys.dropNext();
  }
  const next = newSecretKey();
  keys.stageNext(next);
  let resealed: number;
  try {
    resealed = await catalog.resealCatalog(resealWith([old], next), now);
  } catch (error) {
    keys.dropNext();
    throw error;
  }
  keys.promoteNext();
  // The catalog refuses a secret sealed with the old key once the re-seal committed, but a
  // process of an earlier release does not ask it: one more pass brings such a secret under
  // the new key.
  await catalog.resealCatalog(resealWith([old, next], next), now);
  return { resealed, from: fromId, to: next.id };
}

/**
 * The reseal (DestinationCatalog.resealCatalog): opens with any of `from` (by the id the sealed
 * form names), seals with `to`, which becomes the catalog's key.
 */
function resealWith(from: readonly SecretKey[], to: SecretKey) {
  const byId = new Map([...from, to].map((k) => [k.id, k]));
  return {
    keyId: to.id,
    reseal: (name: string, sealed: string): string => {
      if (sealedKeyId(sealed) === to.id) return sealed;
      const inUse = (from[0] ?? to).id;
      const secret = openSecret(sealed, secretContext(name), (id) => byId.get(id), inUse);
      return sealSecret(secret, secretContext(name), to);
    },
  };
}
