import { type Answer, assetOk, fail, failWith, ok, skipped } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { fieldsParam, maxBatch, projectLead } from "./leads.ts";
import type { ChannelStatusSpec, ProgramSpec } from "./options.ts";
import { page } from "./paging.ts";
import { type CallInput, isRecord, type Route } from "./routes.ts";
import { isoSeconds } from "./schema.ts";

/** A lead's membership of a program (§6.4 `membership`). */
export interface Membership {
  status: ChannelStatusSpec;
  membershipDate: number;
  updatedAt: number;
  reachedSuccess: boolean;
}

/** A program with its channel's statuses and its members. */
export class Program {
  readonly id: number;
  readonly name: string;
  readonly spec: ProgramSpec;
  readonly statuses: ChannelStatusSpec[];
  readonly members = new Map<number, Membership>();
  readonly createdAt: number;

  constructor(id: number, spec: ProgramSpec, createdAt: number) {
    this.id = id;
    this.name = spec.name;
    this.spec = spec;
    this.createdAt = createdAt;
    this.statuses = spec.channel.statuses.map((s, i) =>
      typeof s === "string" ? { name: s, step: i * 10 } : s,
    );
  }

  /** The channel status named `name` (exact match), if any. */
  status(name: string): ChannelStatusSpec | undefined {
    return this.statuses.find((s) => s.name === name);
  }

  /**
   * §5.1: a pushed lead becomes a member. With a programStatus it moves there unless that
   * is a lower step; without one a new member takes the first status after
   * "Not in Program" (unverified: the docs leave programStatus's meaning open).
   */
  push(leadId: number, status: ChannelStatusSpec | undefined, now: number): void {
    const current = this.members.get(leadId);
    const target = status ?? this.statuses[1] ?? this.statuses[0];
    if (target === undefined) return;
    if (current === undefined) this.setStatus(leadId, target, now);
    else if (status !== undefined && status.step >= current.status.step)
      this.setStatus(leadId, status, now);
  }

  /** Sets a member's status (creating the membership); true if it moved. */
  setStatus(leadId: number, status: ChannelStatusSpec, now: number): void {
    const current = this.members.get(leadId);
    this.members.set(leadId, {
      status,
      membershipDate: current?.membershipDate ?? now,
      updatedAt: now,
      reachedSuccess: (current?.reachedSuccess ?? false) || (status.success ?? false),
    });
  }

  /** Members per status name, for /_sandbox/state. */
  countByStatus(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const m of this.members.values()) counts[m.status.name] = (counts[m.status.name] ?? 0) + 1;
    return counts;
  }

  /** §9.1 ProgramResponse. */
  asAsset(includeTags: boolean, includeCosts: boolean): Record<string, unknown> {
    const at = `${isoSeconds(this.createdAt)}+0000`;
    return {
      id: this.id,
      name: this.name,
      description: this.spec.description ?? "",
      createdAt: at,
      updatedAt: at,
      url: `https://app-sandbox.marketo.com/#PG${this.id}A1`,
      type: this.spec.type ?? "Default",
      channel: this.spec.channel.name,
      folder: { type: "Folder", value: 19, folderName: "Postout Sandbox" },
      status: "",
      workspace: this.spec.workspace ?? "Default",
      tags: includeTags ? [] : null,
      costs: includeCosts ? [] : null,
      headStart: false,
    };
  }
}

/** The programs of the instance. */
export class Programs {
  readonly all: Program[];

  constructor(specs: readonly ProgramSpec[], createdAt: number) {
    let next = 1001;
    const used = new Set(specs.map((s) => s.id).filter((id) => id !== undefined));
    this.all = specs.map((spec) => {
      let id = spec.id;
      if (id === undefined) {
        while (used.has(next)) next++;
        id = next++;
      }
      return new Program(id, spec, createdAt);
    });
  }

  byName(name: string): Program | undefined {
    return this.all.find((p) => p.name === name);
  }

  byId(id: number): Program | undefined {
    return this.all.find((p) => p.id === id);
  }
}

function programParam(instance: Instance, raw: string | undefined): Program | undefined {
  return instance.programs.byId(Number(raw));
}

/**
 * §9.2 Change Lead Program Status: only members change (swagger); 1025 for a status not in
 * the channel, 1037 for a lead already in or past it. unverified: a non-member is skipped
 * with 1013 "Membership not found" (the text program-members.md uses), and success answers
 * `status: "updated"`.
 */
function changeStatus(instance: Instance, call: CallInput): Answer {
  const program = programParam(instance, call.params[0]);
  if (program === undefined) return fail("1013");
  const body = call.body;
  if (!isRecord(body)) return fail("609");
  if (typeof body.status !== "string" || body.status === "") return fail("701", "status");
  if (!Array.isArray(body.input) || body.input.length === 0) return fail("701", "input");
  if (body.input.length > maxBatch) return fail("1003");
  const status = program.status(body.status);
  const now = instance.clock.now();
  return ok(
    body.input.map((item: unknown) => {
      const id = isRecord(item) ? Number(item.id) : Number.NaN;
      if (!Number.isInteger(id)) return skipped("1003");
      if (status === undefined) return { id, ...skipped("1025") };
      if (instance.leads.get(id) === undefined) return { id, ...skipped("1004") };
      const member = program.members.get(id);
      if (member === undefined) {
        return {
          id,
          status: "skipped",
          reasons: [{ code: "1013", message: "Membership not found" }],
        };
      }
      if (member.status.name === status.name || status.step < member.status.step) {
        return { id, ...skipped("1037") };
      }
      program.setStatus(id, status, now);
      return { id, status: "updated" };
    }),
  );
}

/** §9.3 Sync Program Member Status: an upsert with `seq` and `leadId`. */
function syncMemberStatus(instance: Instance, call: CallInput): Answer {
  const program = programParam(instance, call.params[0]);
  if (program === undefined) return fail("1013");
  const body = call.body;
  if (!isRecord(body)) return fail("609");
  if (typeof body.statusName !== "string" || body.statusName === "")
    return fail("701", "statusName");
  if (!Array.isArray(body.input) || body.input.length === 0) return fail("701", "input");
  if (body.input.length > maxBatch) return fail("1003");
  const status = program.status(body.statusName);
  const now = instance.clock.now();
  return ok(
    body.input.map((item: unknown, seq: number) => {
      const leadId = isRecord(item) ? Number(item.leadId) : Number.NaN;
      if (status === undefined) return { seq, ...skipped("1025") };
      if (!Number.isInteger(leadId) || instance.leads.get(leadId) === undefined) {
        return { seq, ...skipped("1004") };
      }
      const member = program.members.get(leadId);
      if (
        member !== undefined &&
        (member.status.name === status.name || status.step < member.status.step)
      ) {
        return {
          seq,
          status: "skipped",
          reasons: [
            { code: "1037", message: "Lead skipped because it is already in or past this status" },
          ],
        };
      }
      program.setStatus(leadId, status, now);
      return { seq, status: member === undefined ? "created" : "updated", leadId };
    }),
  );
}

/** §6.4 Get Leads by Program Id, with the `membership` object. */
function membersOf(instance: Instance, call: CallInput): Answer {
  const program = programParam(instance, call.params[0]);
  if (program === undefined) return fail("1013");
  const fields = fieldsParam(instance, call.query);
  if (!Array.isArray(fields)) return fields;
  const ids = [...program.members.keys()].sort((a, b) => a - b);
  const p = page(
    ids,
    `program|${program.id}`,
    call.query.get("batchSize"),
    call.query.get("nextPageToken"),
  );
  if (!p.ok) return fail("1003");
  return ok(
    p.rows.flatMap((id) => {
      const lead = instance.leads.get(id);
      const m = program.members.get(id);
      if (lead === undefined || m === undefined) return [];
      return [
        {
          ...projectLead(lead, fields),
          membership: {
            progressionStatus: m.status.name,
            acquiredBy: false,
            reachedSuccess: m.reachedSuccess,
            membershipDate: isoSeconds(m.membershipDate),
            updatedAt: isoSeconds(m.updatedAt),
          },
        },
      ];
    }),
    p.extra,
  );
}

function byName(instance: Instance, call: CallInput): Answer {
  const name = call.query.get("name");
  if (name === null || name === "") return failWith("701", "name cannot be blank");
  const program = instance.programs.byName(name);
  const tags = call.query.get("includeTags") === "true";
  const costs = call.query.get("includeCosts") === "true";
  return assetOk(program === undefined ? [] : [program.asAsset(tags, costs)]);
}

function byId(instance: Instance, call: CallInput): Answer {
  const program = programParam(instance, call.params[0]);
  return assetOk(program === undefined ? [] : [program.asAsset(false, false)]);
}

function channelByName(instance: Instance, call: CallInput): Answer {
  const name = call.query.get("name") ?? "";
  const program = instance.programs.all.find((p) => p.spec.channel.name === name);
  if (program === undefined) return assetOk([]);
  return assetOk([
    {
      id: program.id,
      name,
      applicableProgramType: program.spec.type ?? "Default",
      progressionStatuses: program.statuses.map((s) => ({
        name: s.name,
        step: s.step,
        success: s.success ?? false,
        hidden: false,
      })),
    },
  ]);
}

/** Routes of §9 and the program-member reads of §6.4. */
export function programRoutes(instance: Instance): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/rest\/asset\/v1\/program\/byName\.json$/,
      body: "none",
      latency: "asset",
      handle: (c) => byName(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/asset\/v1\/program\/(\d+)\.json$/,
      body: "none",
      latency: "asset",
      handle: (c) => byId(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/asset\/v1\/channel\/byName\.json$/,
      body: "none",
      latency: "asset",
      handle: (c) => channelByName(instance, c),
    },
    {
      method: "POST",
      pattern: /^\/rest\/v1\/leads\/programs\/(\d+)\/status\.json$/,
      body: "json",
      latency: "write",
      handle: (c) => changeStatus(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/leads\/programs\/(\d+)\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => membersOf(instance, c),
    },
    {
      method: "POST",
      pattern: /^\/rest\/v1\/programs\/(\d+)\/members\/status\.json$/,
      body: "json",
      latency: "write",
      handle: (c) => syncMemberStatus(instance, c),
    },
  ];
}
