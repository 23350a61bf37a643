import type { Destination, Gateway } from "./gateway.ts";
import { type FieldMap, IDENTITY_MAP, loadFieldMap } from "./mapping/field-map.ts";
import { preparer } from "./prepare.ts";
import type { LeadFilter, Requeue } from "./store/store.ts";

export interface RepostOptions {
  /** Map every lead with this field map file, read anew (the CLI's `--map`). */
  readonly mapPath?: string;
  /** Map every lead with this field map (the API's `map`); wins over `mapPath`. */
  readonly map?: FieldMap;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Repost: maps each matching lead's raw row again with the current field map (`map`, else
 * `mapPath`, else the map file it was posted with, read anew) and queues it; the history of
 * attempts is kept. Leads being sent right now are left alone. Resolves to the requeued ids.
 */
type SchemaSource = Destination["schema"];

export async function repostLeads(
  gateway: Gateway,
  filter: LeadFilter,
  options: RepostOptions = {},
): Promise<number[]> {
  const now = options.now ?? Date.now;
  const maps = new Map<string, Promise<FieldMap>>();
  const mapFor = (path: string | undefined): Promise<FieldMap> => {
    if (options.map) return Promise.resolve(options.map);
    if (path === undefined) return Promise.resolve(IDENTITY_MAP);
    let map = maps.get(path);
    if (!map) {
      map = loadFieldMap(path);
      maps.set(path, map);
    }
    return map;
  };
  // Each lead gets its own preparer, and a preparer asks Marketo for a fresh schema when a
  // field is not in the cached one: once per repost and destination, not once per lead (a
  // repost of 10,000 leads still refused with 1006 would spend 10,000 describe calls).
  const schemas = new Map<string, SchemaSource>();
  const schemaOf = (name: string): SchemaSource => {
    let source = schemas.get(name);
    if (!source) {
      const destination = gateway.destination(name);
      let refreshed = false;
      source = (opts = {}) => {
        const refresh = opts.refresh === true && !refreshed;
        if (refresh) refreshed = true;
        return destination.schema(refresh ? { refresh } : {});
      };
      schemas.set(name, source);
    }
    return source;
  };
  const ids: number[] = [];
  let batch: Requeue[] = [];
  const flush = async () => {
    if (batch.length > 0) await gateway.store.requeue(batch, now());
    batch = [];
  };
  for await (const lead of gateway.store.iterateLeads(filter, 1000)) {
    if (lead.status === "sending") continue;
    const destination = gateway.destination(lead.destination);
    const schema = schemaOf(lead.destination);
    const mapPath = options.map ? undefined : (options.mapPath ?? lead.mapPath);
    const prepare = preparer({
      map: await mapFor(mapPath),
      route: lead.route,
      schema,
      markerField: destination.markerField,
    });
    const prepared = await prepare(lead.raw);
    ids.push(lead.id);
    batch.push({
      id: lead.id,
      route: lead.route,
      input: prepared.input,
      ...(mapPath === undefined ? {} : { mapPath }),
      ...("refused" in prepared ? { refused: prepared.refused } : {}),
    });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  for (const destination of gateway.destinations) gateway.wake(destination.name);
  return ids;
}
