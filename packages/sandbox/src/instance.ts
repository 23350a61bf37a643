import { activityRoutes } from "./activities.ts";
import { type Activity, ActivityLog } from "./activity-log.ts";
import { BulkImports, bulkImportRoutes } from "./bulk-import.ts";
import type { Clock } from "./clock.ts";
import { CustomObjectType, customObjectRoutes } from "./custom-objects.ts";
import { describeRoutes } from "./describe.ts";
import { leadActivityRoutes } from "./lead-activities.ts";
import { LeadStore } from "./lead-store.ts";
import { leadRoutes } from "./leads.ts";
import { Lists, listRoutes } from "./lists.ts";
import type { ActivityTypeSpec, ResolvedOptions } from "./options.ts";
import { Programs, programRoutes } from "./programs.ts";
import type { Route } from "./routes.ts";
import { LeadSchema } from "./schema.ts";

/** A lead partition as listed (§4). */
export interface Partition {
  id: number;
  name: string;
  description: string;
}

/** The data of one simulated Marketo instance: schema, leads, lists, programs and the rest. */
export class Instance {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly schema: LeadSchema;
  readonly createdAt: number;
  readonly activityTypes: readonly ActivityTypeSpec[];
  readonly partitions: readonly Partition[];
  leads = new LeadStore();
  lists: Lists;
  programs: Programs;
  customObjects: Map<string, CustomObjectType>;
  bulk: BulkImports;
  /** Activities written by Push Lead and Add Custom Activities (the latest `keptActivities`). */
  activities: ActivityLog;
  readonly routes: readonly Route[];

  constructor(options: ResolvedOptions, clock: Clock) {
    this.options = options;
    this.clock = clock;
    this.createdAt = clock.now();
    this.schema = new LeadSchema(options.customFields);
    this.activityTypes = options.activityTypes;
    this.activities = new ActivityLog(options.keptActivities);
    let nextPartition = 1;
    this.partitions = options.partitions.map((p) => ({
      id: p.id ?? nextPartition++,
      name: p.name,
      description: p.description ?? "",
    }));
    if (this.partitions.length === 0) throw new TypeError("partitions: at least one is needed");
    this.lists = new Lists(options.lists, this.createdAt);
    this.programs = new Programs(options.programs, this.createdAt);
    this.customObjects = this.#customObjects();
    this.bulk = new BulkImports(this);
    this.routes = [
      ...leadRoutes(this),
      ...describeRoutes(this),
      ...listRoutes(this),
      ...programRoutes(this),
      ...customObjectRoutes(this),
      ...activityRoutes(this),
      ...leadActivityRoutes(this),
      ...bulkImportRoutes(this),
    ];
  }

  #customObjects(): Map<string, CustomObjectType> {
    return new Map(
      this.options.customObjects.map((spec) => [spec.name, new CustomObjectType(spec)]),
    );
  }

  /** Writes an activity and returns its id. */
  recordActivity(activity: Omit<Activity, "id">): number {
    return this.activities.add(activity);
  }

  /** Back to the seed data: no leads, empty lists and programs, no jobs or activities. */
  reset(): void {
    this.leads = new LeadStore();
    this.lists = new Lists(this.options.lists, this.createdAt);
    this.programs = new Programs(this.options.programs, this.createdAt);
    this.customObjects = this.#customObjects();
    this.bulk = new BulkImports(this);
    this.activities.clear();
  }

  /** The data part of /_sandbox/state. */
  summary(): Record<string, unknown> {
    this.bulk.tick(this.clock.now());
    return {
      leads: this.leads.size,
      leadsSharingEmail: this.leads.sharingEmail(),
      programs: this.programs.all.map((p) => ({
        id: p.id,
        name: p.name,
        members: p.members.size,
        statuses: p.countByStatus(),
      })),
      lists: this.lists.all.map((l) => ({ id: l.id, name: l.spec.name, members: l.members.size })),
      customObjects: Object.fromEntries(
        [...this.customObjects].map(([name, t]) => [name, t.records.size]),
      ),
      activities: this.activities.written,
      activitiesKept: this.activities.rows.length,
      bulkImports: [...this.bulk.jobs.values()].map((j) => ({
        batchId: j.batchId,
        status: j.status,
      })),
    };
  }
}
