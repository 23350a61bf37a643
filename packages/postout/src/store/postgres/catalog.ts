import type {
  CatalogChange,
  CatalogEntry,
  NewCatalogEntry,
  OtherKey,
  RemoveResult,
  SealedSecret,
  WaitingLeads,
} from "../destination-catalog.ts";
import type { Database, Query } from "./database.ts";
import { opt } from "./rows.ts";
import * as SQL from "./sql.ts";
import { ms, text } from "./values.ts";

/**
 * The destination catalog on PostgreSQL (DestinationCatalog; PostgresStore delegates to these).
 * Every write runs in one transaction that first takes the catalog's lock (SQL.LOCK_CATALOG):
 * two processes adding the same name, or a removal beside an edit, go one after the other, as
 * SQLite's immediate transactions do, and versions rise in commit order.
 */

/** A row of `destination_catalog` as pg returns it. */
interface CatalogRecord {
  name: string;
  base_url: string;
  client_id: string;
  sealed_secret: string;
  calls_per_20s: number | null;
  concurrency: number | null;
  daily_budget: number | null;
  marker_field: string | null;
  created_at: number;
  updated_at: number;
}

function toCatalogEntry(r: CatalogRecord): CatalogEntry {
  return {
    name: r.name,
    baseUrl: r.base_url,
    clientId: r.client_id,
    sealedSecret: r.sealed_secret,
    callsPer20s: opt(r.calls_per_20s),
    concurrency: opt(r.concurrency),
    dailyBudget: opt(r.daily_budget),
    markerField: opt(r.marker_field),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Inside a catalog transaction: OtherKey when `secret` is not sealed with the catalog's key
 * (the catalog takes its key when it has none yet), else `undefined`.
 */
async function otherKey(
  query: Query,
  secret: SealedSecret,
  now: number,
): Promise<OtherKey | undefined> {
  const { rows } = await query<{ key_id: string }>(SQL.CATALOG_KEY, [text(secret.keyId), ms(now)]);
  const catalogKey = rows[0]?.key_id;
  return catalogKey === undefined || catalogKey === secret.keyId ? undefined : { catalogKey };
}

/** Runs `work` in one transaction holding the catalog's lock. */
function locked<T>(db: Database, work: (query: Query) => Promise<T>): Promise<T> {
  return db.transaction(
    async (query) => {
      await query(SQL.LOCK_CATALOG);
      return work(query);
    },
    { write: true },
  );
}

export async function listCatalog(db: Database): Promise<CatalogEntry[]> {
  const { rows } = await db.read<CatalogRecord>(SQL.LIST_CATALOG);
  return rows.map(toCatalogEntry);
}

export async function getCatalogEntry(
  db: Database,
  name: string,
): Promise<CatalogEntry | undefined> {
  const { rows } = await db.read<CatalogRecord>(SQL.GET_CATALOG_ENTRY, [text(name)]);
  return rows[0] && toCatalogEntry(rows[0]);
}

export function addCatalogEntry(
  db: Database,
  entry: NewCatalogEntry,
  now: number,
): Promise<
  | { entry: CatalogEntry; resumed: number }
  | { taken: true }
  | { heldFor: { baseUrl: string; leads: number } }
  | OtherKey
> {
  const name = text(entry.name);
  const at = ms(now);
  return locked(db, async (query) => {
    const before = await query<{ removed_at: number | null; base_url: string }>(
      SQL.CATALOG_REMOVED_AT,
      [name],
    );
    const row = before.rows[0];
    if (row && row.removed_at === null) return { taken: true as const };
    if (row && row.base_url !== entry.baseUrl) {
      const held = await query<{ n: number }>(SQL.COUNT_PAUSED_LEADS, [name]);
      const leads = held.rows[0]?.n ?? 0;
      if (leads > 0) return { heldFor: { baseUrl: row.base_url, leads } };
    }
    // Last: a refusal above changes nothing, not even the catalog's first key.
    const other = await otherKey(query, entry.secret, now);
    if (other) return other;
    const added = await query<CatalogRecord>(SQL.ADD_CATALOG_ENTRY, [
      name,
      text(entry.baseUrl),
      text(entry.clientId),
      text(entry.secret.sealed),
      entry.callsPer20s ?? null,
      entry.concurrency ?? null,
      entry.dailyBudget ?? null,
      text(entry.markerField),
      at,
    ]);
    let resumed = 0;
    if (row) {
      // The name was removed with its leads held paused: they are this destination's again.
      await query(SQL.END_REMOVED_PAUSE, [name, at]);
      resumed = (await query(SQL.RESUME_DESTINATION, [at, name])).rowCount ?? 0;
    }
    return { entry: toCatalogEntry(added.rows[0] as CatalogRecord), resumed };
  });
}

export function updateCatalogEntry(
  db: Database,
  name: string,
  change: CatalogChange,
  now: number,
): Promise<
  | { entry: CatalogEntry }
  | { waitingFor: { baseUrl: string; leads: number } }
  | OtherKey
  | undefined
> {
  const given = (v: unknown) => v !== undefined;
  const key = text(name);
  return locked(db, async (query) => {
    if (change.baseUrl !== undefined || change.secret) {
      const before = (await query<CatalogRecord>(SQL.GET_CATALOG_ENTRY, [key])).rows[0];
      // An unknown name changes nothing, not even the catalog's first key.
      if (!before) return undefined;
      if (change.baseUrl !== undefined && text(change.baseUrl) !== before.base_url) {
        await query(SQL.LOCK_LEADS_WRITES);
        const counts = await query<{ n: number }>(SQL.WAITING_LEADS, [key]);
        const leads = counts.rows.reduce((sum, c) => sum + Number(c.n), 0);
        if (leads > 0) return { waitingFor: { baseUrl: before.base_url, leads } };
      }
      const other = change.secret && (await otherKey(query, change.secret, now));
      if (other) return other;
    }
    const { rows } = await query<CatalogRecord>(SQL.UPDATE_CATALOG_ENTRY, [
      key,
      text(change.baseUrl),
      text(change.clientId),
      text(change.secret?.sealed),
      given(change.callsPer20s),
      change.callsPer20s ?? null,
      given(change.concurrency),
      change.concurrency ?? null,
      given(change.dailyBudget),
      change.dailyBudget ?? null,
      given(change.markerField),
      text(change.markerField),
      ms(now),
    ]);
    return rows[0] && { entry: toCatalogEntry(rows[0]) };
  });
}

export function removeCatalogEntry(
  db: Database,
  name: string,
  options: {
    readonly waiting: "refuse" | "hold";
    readonly now: number;
    readonly hold: { readonly until: number; readonly reason: string };
  },
): Promise<RemoveResult | undefined> {
  const key = text(name);
  const at = ms(options.now);
  const { hold } = options;
  return locked(db, async (query): Promise<RemoveResult | undefined> => {
    if ((await query(SQL.GET_CATALOG_ENTRY, [key])).rowCount === 0) return undefined;
    const counts = await query<{ status: keyof WaitingLeads; n: number }>(SQL.WAITING_LEADS, [key]);
    const waiting = { queued: 0, retrying: 0, sending: 0, paused: 0 };
    for (const c of counts.rows) waiting[c.status] = c.n;
    const total = counts.rows.reduce((sum, c) => sum + c.n, 0);
    if (total > 0 && options.waiting === "refuse") return { removed: false, waiting, total };
    const held = await query(SQL.HOLD_WAITING_LEADS, [ms(hold.until), at, key]);
    await query(SQL.SET_DESTINATION_PAUSE, [key, ms(hold.until), "removed", text(hold.reason), at]);
    await query(SQL.MARK_CATALOG_REMOVED, [key, at]);
    return { removed: true, held: held.rowCount ?? 0 };
  });
}

export async function catalogVersion(db: Database): Promise<number> {
  const { rows } = await db.read<{ version: number }>(SQL.CATALOG_VERSION);
  return rows[0]?.version ?? 0;
}

export function resealCatalog(
  db: Database,
  to: { readonly keyId: string; readonly reseal: (name: string, sealedSecret: string) => string },
  now: number,
): Promise<number> {
  return locked(db, async (query) => {
    const { rows } = await query<{ name: string; sealed_secret: string }>(SQL.CATALOG_SECRETS);
    // An exception from `reseal` is thrown before any update: the transaction rolls back.
    const sealed = rows.map((r) => text(to.reseal(r.name, r.sealed_secret)));
    if (rows.length > 0)
      await query(SQL.RESEAL_CATALOG, [rows.map((r) => r.name), sealed, ms(now)]);
    await query(SQL.SET_CATALOG_KEY, [text(to.keyId), ms(now)]);
    return rows.length;
  });
}
