import type { LeadStatus } from "./store.ts";

/** A destination created at runtime (API, CLI), as the catalog keeps it. */
export interface CatalogEntry {
  readonly name: string;
  readonly baseUrl: string;
  readonly clientId: string;
  /** The client secret sealed by src/secrets/secret-box.ts: never the secret itself. */
  readonly sealedSecret: string;
  /** Postout's share of the instance's 100 calls per 20 s; `undefined` for all of it. */
  readonly callsPer20s: number | undefined;
  /** Postout's share of the instance's 10 concurrent calls; `undefined` for all of them. */
  readonly concurrency: number | undefined;
  /** Calls a day Postout may make to the instance; `undefined` for no budget of its own. */
  readonly dailyBudget: number | undefined;
  readonly markerField: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A client secret as the catalog is given it: sealed, with the id of the key that sealed it. */
export interface SealedSecret {
  /** The sealed form (src/secrets/secret-box.ts): never the secret itself. */
  readonly sealed: string;
  /** The id of the key that sealed it: the catalog takes only secrets sealed with its key. */
  readonly keyId: string;
}

/** The settings of a new entry (created and updated times are the store's). */
export type NewCatalogEntry = Omit<CatalogEntry, "createdAt" | "updatedAt" | "sealedSecret"> & {
  readonly secret: SealedSecret;
};

/** What an edit changes; a field left out keeps its value, `null` clears an optional one. */
export interface CatalogChange {
  readonly baseUrl?: string;
  readonly clientId?: string;
  readonly secret?: SealedSecret;
  readonly callsPer20s?: number | null;
  readonly concurrency?: number | null;
  readonly dailyBudget?: number | null;
  readonly markerField?: string | null;
}

/** Leads not yet settled, by status: what a removal must not drop. */
export type WaitingLeads = Readonly<
  Record<Extract<LeadStatus, "queued" | "retrying" | "sending" | "paused">, number>
>;

/** A removal's result: done (and how many leads it holds paused), or refused for waiting leads. */
export type RemoveResult =
  | { readonly removed: true; readonly held: number }
  | { readonly removed: false; readonly waiting: WaitingLeads; readonly total: number };

/**
 * A secret refused because it is not sealed with the catalog's key: `catalogKey` is the id of the
 * key every secret of the catalog is sealed with (a process still on a key a rotation retired
 * would seal one that no process can open once the old key is gone).
 */
export interface OtherKey {
  readonly catalogKey: string;
}

/**
 * The destinations created at runtime. Entries are never deleted: a removed one is marked
 * removed, so its name can be taken again and the leads it held paused become sendable again.
 * Every change raises the catalog's version, which every process polls cheaply to see changes.
 *
 * The catalog keeps the id of the key its secrets are sealed with: set by a rotation (the
 * reseal), or by the first secret given; an entry or an edit whose secret is sealed with another
 * key is refused (OtherKey) and changes nothing.
 */
export interface DestinationCatalog {
  /** The entries not removed, by name. */
  listCatalog(): Promise<CatalogEntry[]>;
  /** One entry not removed. */
  getCatalogEntry(name: string): Promise<CatalogEntry | undefined>;
  /**
   * Adds an entry; `taken` when one of that name exists (and is not removed). Re-creating a
   * removed name ends the pause its removal put on the destination and its leads (they are due
   * at once), in the same transaction.
   * A removed name whose held leads belong to another Marketo instance (another base URL) is not
   * taken: `heldFor` names that instance and how many leads wait, and nothing changes, so no
   * lead meant for one customer's Marketo is sent to another's.
   * A secret sealed with another key than the catalog's is refused: OtherKey, nothing changes.
   */
  addCatalogEntry(
    entry: NewCatalogEntry,
    now: number,
  ): Promise<
    | { readonly entry: CatalogEntry; readonly resumed: number }
    | { readonly taken: true }
    | { readonly heldFor: { readonly baseUrl: string; readonly leads: number } }
    | OtherKey
  >;
  /**
   * Changes an entry, in one transaction with its checks; `undefined` when there is none of that
   * name. A new base URL while leads of the destination wait (queued, retrying, sending, paused)
   * is refused: `waitingFor` names the instance they were accepted for and how many wait (an
   * intake committing meanwhile is counted, or comes after the change). A new secret sealed with
   * another key than the catalog's is refused: OtherKey. A refusal changes nothing.
   */
  updateCatalogEntry(
    name: string,
    change: CatalogChange,
    now: number,
  ): Promise<
    | { readonly entry: CatalogEntry }
    | { readonly waitingFor: { readonly baseUrl: string; readonly leads: number } }
    | OtherKey
    | undefined
  >;
  /**
   * Removes an entry in one transaction. With leads waiting (queued, retrying, sending, paused),
   * `refuse` changes nothing and counts them; `hold` pauses them until `hold.until` (a pause with
   * code `removed` on the destination), so nothing is sent and nothing is dropped.
   * `undefined` when there is no entry of that name.
   */
  removeCatalogEntry(
    name: string,
    options: {
      readonly waiting: "refuse" | "hold";
      readonly now: number;
      readonly hold: { readonly until: number; readonly reason: string };
    },
  ): Promise<RemoveResult | undefined>;
  /** A number that grows at every change of the catalog: cheap to read once a second. */
  catalogVersion(): Promise<number>;
  /**
   * Re-seals every entry's secret, removed ones too, with the key `to.keyId`, and makes it the
   * catalog's key, in one transaction (key rotation). `to.reseal` gets an entry's name and
   * sealed secret and returns the new sealed form; an exception from it rolls everything back.
   * Resolves to how many were re-sealed.
   */
  resealCatalog(
    to: {
      readonly keyId: string;
      readonly reseal: (name: string, sealedSecret: string) => string;
    },
    now: number,
  ): Promise<number>;
}
