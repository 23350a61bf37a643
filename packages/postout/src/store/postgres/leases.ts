import type { DueDestination } from "../destination-leases.ts";
import type { Database, Query } from "./database.ts";
import * as SQL from "./sql.ts";
import { ms, text } from "./values.ts";

/**
 * Destination leases on PostgreSQL (DestinationLeases; migration 002), for many processes on
 * one database. The store delegates to these functions.
 */

export async function heartbeat(
  db: Database,
  worker: string,
  now: number,
  ttlMs: number,
): Promise<void> {
  // Two statements, no transaction: the upsert waits at most for a forget, which waits for nobody.
  await db.write(SQL.HEARTBEAT, [text(worker), ms(now + ttlMs)]);
  await db.write(SQL.FORGET_QUIET_WORKERS, [ms(now)]);
}

/**
 * One transaction. Its first statement locks, in destination order, every lease it may change
 * (its own, the expired ones), so balances of several processes wait for each other instead of
 * deadlocking; a lease nobody held is taken by an insert, also in destination order. A take
 * only wins while the lease is still free or expired (the upsert's WHERE): two workers never
 * own a destination at once.
 */
export function balance(
  db: Database,
  worker: string,
  destinations: readonly string[],
  now: number,
  leaseMs: number,
  busy: readonly string[] = [],
): Promise<string[]> {
  const inFlight = new Set(busy);
  const names = [...new Set(destinations.map((d) => text(d)))].sort();
  const who = text(worker);
  const at = ms(now);
  const until = ms(now + leaseMs);
  return db.transaction(
    async (query) => {
      const locked = await query<{ destination: string; owner: string }>(SQL.LOCK_LEASES, [
        names,
        who,
        at,
      ]);
      await query(SQL.RENEW_DESTINATION_LEASES, [who, names, until]);
      const live = (await query<{ n: number }>(SQL.LIVE_WORKERS, [who, at])).rows[0]?.n ?? 0;
      const share = Math.ceil(names.length / (live + 1));
      const owned = locked.rows.filter((r) => r.owner === who).map((r) => r.destination);
      if (owned.length > share) {
        // Beyond its share: the idle ones last by name go; one with a round in flight stays.
        const idle = owned.filter((d) => !inFlight.has(d));
        const extra = new Set(idle.slice(Math.max(0, idle.length - (owned.length - share))));
        await query(SQL.GIVE_UP_LEASES, [who, [...extra]]);
        return owned.filter((d) => !extra.has(d));
      }
      if (owned.length < share) {
        const free = await query<{ destination: string }>(SQL.FREE_DESTINATIONS, [
          names,
          at,
          share - owned.length,
        ]);
        const taken = await query<{ destination: string }>(SQL.TAKE_LEASES, [
          free.rows.map((r) => r.destination),
          who,
          until,
          at,
        ]);
        owned.push(...taken.rows.map((r) => r.destination));
        owned.sort();
      }
      await query(SQL.RELEASE_EXPIRED_CLAIMS, [owned, at]);
      return owned;
    },
    { write: true },
  );
}

export async function releaseWorker(db: Database, worker: string): Promise<void> {
  await db.write(SQL.RELEASE_WORKER, [text(worker)]);
}

export async function leaseOwners(
  db: Database,
  destinations: readonly string[],
): Promise<string[]> {
  const { rows } = await db.read<{ owner: string }>(SQL.LEASE_OWNERS, [
    destinations.map((d) => text(d)),
  ]);
  return rows.map((r) => r.owner);
}

export async function dueDestinations(
  db: Database,
  destinations: readonly string[],
): Promise<DueDestination[]> {
  const { rows } = await db.read<{ destination: string; dueAt: number }>(SQL.DUE_DESTINATIONS, [
    destinations.map((d) => text(d)),
  ]);
  return rows.map((r) => ({ destination: r.destination, dueAt: r.dueAt }));
}

/** A lead whose claim the worker lost: its record's row is logged with this number and destination. */
export interface LostClaim {
  readonly attempts: number;
  readonly destination: string;
}

/**
 * recordAttempts' claim check, once, as the claims stand before any record of the round moves
 * a lead (a lead's follow-up step records after its lead step): the leads `worker` no longer
 * claims, by id. Locks the leads until the records are in, so a takeover's hand-back cannot
 * slip between the check and the move. Throws for a lead that does not exist.
 */
export async function lostClaims(
  query: Query,
  leadIds: readonly number[],
  worker: string,
): Promise<Map<number, LostClaim>> {
  const ids = [...new Set(leadIds)];
  const { rows } = await query<{
    id: number;
    held: boolean;
    attempts: number;
    destination: string;
  }>(SQL.CLAIMS_HELD, [ids, text(worker)]);
  const lost = new Map<number, LostClaim>();
  for (const r of rows)
    if (!r.held) lost.set(r.id, { attempts: r.attempts, destination: r.destination });
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw new Error(`lead ${ids.find((id) => !found.has(id))} does not exist`);
  }
  return lost;
}
