import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Route } from "../src/route.ts";
import type { NewCatalogEntry } from "../src/store/destination-catalog.ts";
import type { Store } from "../src/store/store.ts";

/**
 * The destination catalog's part of the store conformance suite (store-suite.ts runs it on every
 * backend). `withStore` gives a fresh, empty store.
 */
export function catalogSuite(
  withStore: (fn: (store: Store) => Promise<void>) => Promise<void>,
): void {
  const T0 = Date.parse("2026-12-01T12:00:00Z");
  const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
  const entry = (name: string, over: Partial<NewCatalogEntry> = {}): NewCatalogEntry => ({
    name,
    baseUrl: "https://123-ABC-456.mktorest.com",
    clientId: "client-1",
    secret: { sealed: "v1:aaaaaaaa:iv:body:tag", keyId: "aaaaaaaa" },
    callsPer20s: 50,
    concurrency: undefined,
    dailyBudget: 10_000,
    markerField: undefined,
    ...over,
  });
  /** The entry as the catalog answers it. */
  const stored = (
    { secret, ...rest }: NewCatalogEntry,
    createdAt: number,
    updatedAt = createdAt,
  ) => ({
    ...rest,
    sealedSecret: secret.sealed,
    createdAt,
    updatedAt,
  });
  const claim = (store: Store, destination: string, now: number) =>
    store.claimDue(destination, { now, limit: 100, worker: "w", leaseMs: 60_000 });
  const addLeads = (store: Store, destination: string, n: number) =>
    store.addLeads(
      Array.from({ length: n }, (_, i) => ({
        destination,
        route: SYNC,
        raw: { email: `l${i}@example.com` },
        input: { email: `l${i}@example.com` },
        intakeKey: `${destination}#${i}`,
      })),
      T0,
    );

  describe("destination catalog", () => {
    it("adds, reads and lists entries; a second of the same name is taken", () =>
      withStore(async (store) => {
        const added = await store.addCatalogEntry(entry("acme"), T0);
        assert.ok("entry" in added);
        assert.equal(added.resumed, 0);
        assert.deepEqual(added.entry, stored(entry("acme"), T0));
        await store.addCatalogEntry(entry("beta", { callsPer20s: undefined }), T0);
        assert.deepEqual(
          (await store.listCatalog()).map((e) => [e.name, e.callsPer20s]),
          [
            ["acme", 50],
            ["beta", undefined],
          ],
        );
        assert.deepEqual(await store.addCatalogEntry(entry("acme"), T0 + 1), { taken: true });
        assert.equal(await store.getCatalogEntry("nobody"), undefined);
      }));

    it("edits what is given, keeps the rest, clears with null; unknown names are undefined", () =>
      withStore(async (store) => {
        await store.addCatalogEntry(entry("acme"), T0);
        const updated = await store.updateCatalogEntry(
          "acme",
          { clientId: "client-2", dailyBudget: null, concurrency: 5 },
          T0 + 10,
        );
        const edited = updated && "entry" in updated ? updated.entry : undefined;
        assert.equal(edited?.clientId, "client-2");
        assert.equal(edited?.sealedSecret, entry("acme").secret.sealed, "the secret is kept");
        assert.equal(edited?.dailyBudget, undefined);
        assert.equal(edited?.concurrency, 5);
        assert.equal(edited?.callsPer20s, 50);
        assert.equal(edited?.createdAt, T0);
        assert.equal(edited?.updatedAt, T0 + 10);
        assert.equal(await store.updateCatalogEntry("nobody", { clientId: "x" }, T0), undefined);
      }));

    it("refuses a new base URL while leads wait, counting them, and changes nothing; other edits go on", () =>
      withStore(async (store) => {
        await store.addCatalogEntry(entry("acme"), T0);
        await addLeads(store, "acme", 3);
        await claim(store, "acme", T0 + 1);
        const version = await store.catalogVersion();
        const other = "https://999-ZZZ-999.mktorest.com";
        assert.deepEqual(
          await store.updateCatalogEntry("acme", { baseUrl: other, clientId: "c2" }, T0 + 2),
          { waitingFor: { baseUrl: entry("acme").baseUrl, leads: 3 } },
        );
        assert.equal((await store.getCatalogEntry("acme"))?.clientId, "client-1");
        assert.equal(await store.catalogVersion(), version, "nothing changed");
        const same = await store.updateCatalogEntry(
          "acme",
          { baseUrl: entry("acme").baseUrl, clientId: "c2" },
          T0 + 3,
        );
        assert.equal(same && "entry" in same && same.entry.clientId, "c2");
      }));

    it("raises its version at every change, and only then", () =>
      withStore(async (store) => {
        const v0 = await store.catalogVersion();
        await store.addCatalogEntry(entry("acme"), T0);
        const v1 = await store.catalogVersion();
        assert.ok(v1 > v0);
        assert.equal(await store.catalogVersion(), v1);
        // Two edits in the same millisecond are two changes.
        await store.updateCatalogEntry("acme", { clientId: "a" }, T0);
        const v2 = await store.catalogVersion();
        await store.updateCatalogEntry("acme", { clientId: "b" }, T0);
        assert.ok(v2 > v1 && (await store.catalogVersion()) > v2);
        const v3 = await store.catalogVersion();
        await store.removeCatalogEntry("acme", {
          waiting: "refuse",
          now: T0,
          hold: { until: Number.MAX_SAFE_INTEGER, reason: "removed" },
        });
        assert.ok((await store.catalogVersion()) > v3);
      }));

    it("refuses to remove a destination with leads waiting, counting them by status", () =>
      withStore(async (store) => {
        await store.addCatalogEntry(entry("acme"), T0);
        await addLeads(store, "acme", 3);
        await claim(store, "acme", T0 + 1);
        const result = await store.removeCatalogEntry("acme", {
          waiting: "refuse",
          now: T0 + 2,
          hold: { until: Number.MAX_SAFE_INTEGER, reason: "removed" },
        });
        assert.deepEqual(result, {
          removed: false,
          waiting: { queued: 0, retrying: 0, sending: 3, paused: 0 },
          total: 3,
        });
        assert.ok(await store.getCatalogEntry("acme"), "still there");
        assert.equal(
          await store.removeCatalogEntry("nobody", {
            waiting: "refuse",
            now: T0,
            hold: { until: 1, reason: "" },
          }),
          undefined,
        );
      }));

    it("holds waiting leads paused on removal, and re-creating the name makes them due again", () =>
      withStore(async (store) => {
        await store.addCatalogEntry(entry("acme"), T0);
        await addLeads(store, "acme", 4);
        const until = Number.MAX_SAFE_INTEGER;
        const result = await store.removeCatalogEntry("acme", {
          waiting: "hold",
          now: T0 + 1,
          hold: { until, reason: "removed by a person" },
        });
        assert.deepEqual(result, { removed: true, held: 4 });
        assert.equal(await store.getCatalogEntry("acme"), undefined);
        assert.deepEqual(await store.listCatalog(), []);
        assert.equal((await store.countByStatus({ destination: "acme" })).paused, 4);
        assert.deepEqual(await claim(store, "acme", T0 + 1_000_000), [], "nothing is due");
        const pause = await store.getDestination("acme");
        assert.equal(pause?.pausedCode, "removed");
        assert.equal(pause?.pausedUntil, until);

        const again = await store.addCatalogEntry(entry("acme", { clientId: "new" }), T0 + 5);
        assert.ok("entry" in again);
        assert.equal(again.resumed, 4);
        assert.equal(again.entry.clientId, "new");
        assert.equal(again.entry.createdAt, T0 + 5);
        assert.equal((await store.getDestination("acme"))?.pausedUntil, undefined);
        assert.equal((await claim(store, "acme", T0 + 5)).length, 4);
      }));

    it("refuses a removed name for another instance while its leads are held, and changes nothing", () =>
      withStore(async (store) => {
        await store.addCatalogEntry(entry("acme"), T0);
        await addLeads(store, "acme", 2);
        const until = Number.MAX_SAFE_INTEGER;
        await store.removeCatalogEntry("acme", {
          waiting: "hold",
          now: T0 + 1,
          hold: { until, reason: "removed by a person" },
        });
        const before = await store.catalogVersion();
        const other = await store.addCatalogEntry(
          entry("acme", { baseUrl: "https://999-ZZZ-999.mktorest.com" }),
          T0 + 5,
        );
        assert.deepEqual(other, { heldFor: { baseUrl: entry("acme").baseUrl, leads: 2 } });
        assert.equal(await store.getCatalogEntry("acme"), undefined);
        assert.equal(await store.catalogVersion(), before);
        assert.equal((await store.countByStatus({ destination: "acme" })).paused, 2);
        assert.equal((await store.getDestination("acme"))?.pausedUntil, until);
      }));

    it("re-seals every secret, removed entries' too, in one transaction", () =>
      withStore(async (store) => {
        const old = (sealed: string) => ({ secret: { sealed, keyId: "old" } });
        await store.addCatalogEntry(entry("a", old("old-a")), T0);
        await store.addCatalogEntry(entry("b", old("old-b")), T0);
        await store.removeCatalogEntry("b", {
          waiting: "refuse",
          now: T0,
          hold: { until: 1, reason: "" },
        });
        await assert.rejects(
          store.resealCatalog(
            {
              keyId: "new",
              reseal: (name, sealed) => {
                if (name === "b") throw new Error("cannot open");
                return `new-${sealed}`;
              },
            },
            T0 + 1,
          ),
          /cannot open/,
        );
        assert.equal((await store.getCatalogEntry("a"))?.sealedSecret, "old-a", "rolled back");
        const seen: string[] = [];
        const n = await store.resealCatalog(
          {
            keyId: "new",
            reseal: (name, sealed) => {
              seen.push(name);
              return `new-${sealed}`;
            },
          },
          T0 + 2,
        );
        assert.equal(n, 2);
        assert.deepEqual(seen, ["a", "b"]);
        assert.equal((await store.getCatalogEntry("a"))?.sealedSecret, "new-old-a");
      }));

    it("takes only secrets sealed with its key (the first secret's, then a rotation's); another is refused and changes nothing", () =>
      withStore(async (store) => {
        const sealedWith = (keyId: string, name: string) => ({
          secret: { sealed: `v1:${keyId}:${name}`, keyId },
        });
        assert.ok("entry" in (await store.addCatalogEntry(entry("a", sealedWith("k1", "a")), T0)));
        const version = await store.catalogVersion();
        assert.deepEqual(await store.addCatalogEntry(entry("b", sealedWith("k2", "b")), T0), {
          catalogKey: "k1",
        });
        assert.deepEqual(
          await store.updateCatalogEntry("a", { clientId: "x", ...sealedWith("k2", "a") }, T0),
          { catalogKey: "k1" },
        );
        assert.equal(await store.getCatalogEntry("b"), undefined);
        assert.equal((await store.getCatalogEntry("a"))?.clientId, "client-1");
        assert.equal(await store.catalogVersion(), version, "nothing changed");
        // A rotation to k2 (the removed entries' secrets too; the catalog may be empty).
        await store.resealCatalog(
          { keyId: "k2", reseal: (name) => sealedWith("k2", name).secret.sealed },
          T0 + 1,
        );
        assert.deepEqual(await store.addCatalogEntry(entry("c", sealedWith("k1", "c")), T0 + 2), {
          catalogKey: "k2",
        });
        assert.ok(
          "entry" in (await store.addCatalogEntry(entry("b", sealedWith("k2", "b")), T0 + 2)),
        );
        const edited = await store.updateCatalogEntry("a", sealedWith("k2", "a2"), T0 + 3);
        assert.equal(edited && "entry" in edited && edited.entry.sealedSecret, "v1:k2:a2");
      }));
  });
}
