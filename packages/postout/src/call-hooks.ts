import { mayHaveExecuted, type WriteOptions } from "@postout/marketo";
import { crashPoint } from "./crash-point.ts";
import type { AtStep, DeliveryContext } from "./delivery.ts";
import { stepBefore } from "./delivery.ts";
import type { Route } from "./route.ts";
import type { Step } from "./store/store.ts";

/** A lead one record of a write stands for, with what was sent for it. */
export interface CarriedLead {
  readonly at: AtStep;
  readonly request: unknown;
}

/**
 * The hooks of one step's write: before each call leaves, the wire mark of the leads it
 * carries goes to disk (a crash from then on leaves them to verify, before it they were never
 * sent); a call Marketo answered without carrying it out (606, 615, 413 …) takes the mark
 * back; every call the client sends again is kept for the post-out log.
 * `carried(i)` names the leads the write's record `i` stands for.
 */
export function callHooks(
  ctx: DeliveryContext,
  route: Route,
  step: Step,
  endpoint: string,
  carried: (index: number) => readonly CarriedLead[],
): WriteOptions {
  const leadsOf = (records: readonly number[]) => records.flatMap((i) => carried(i));
  const logged = ctx.tries.options(endpoint, (i) =>
    carried(i).map((c) => ({ leadId: c.at.lead.id, n: c.at.attempts + 1, request: c.request })),
  );
  return {
    onSending: async (call) => {
      await ctx.marks.mark(
        leadsOf(call.records).map((c) =>
          c.at.marketoId === undefined
            ? { id: c.at.lead.id }
            : { id: c.at.lead.id, marketoId: c.at.marketoId },
        ),
        { step, done: stepBefore(route, step), at: ctx.now(), worker: ctx.worker },
      );
      crashPoint("wire", step);
      crashPoint("sent", step);
    },
    onRetriedCall: async (call) => {
      logged.onRetriedCall?.(call);
      if (!mayHaveExecuted(call.error)) {
        await ctx.store.clearWire(
          leadsOf(call.records).map((c) => c.at.lead.id),
          step,
        );
      }
    },
  };
}
