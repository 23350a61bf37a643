import { ResponseLevelError, type RetriedCall, type WriteOptions } from "@postout/marketo";
import type { TryRecord } from "./store/store.ts";

/** A lead that one record of a write stands for (several when leads were merged by lookup key). */
export interface Carried {
  readonly leadId: number;
  /** The lead's attempt the write belongs to. */
  readonly n: number;
  /** What was sent for this lead, as its attempt row shows it. */
  readonly request: unknown;
}

// Said of what the client did next, not of what reached Marketo: the next try may still be
// refused before it is sent (a daily quota known to be used up).
const AFTERWARDS: Record<RetriedCall["then"], string> = {
  retry: "the client tried the call again",
  split: "the client split its records in two and tried again",
  verify: "the client looked its records up in Marketo, then sent the ones not found again",
};

/**
 * Collects the calls the client sent again during one dispatcher round, so that every call
 * that carried a lead becomes a row of that lead's post-out log, not only the call that
 * decided it. The round records them with its outcomes, in one transaction.
 */
export class TryLog {
  readonly #now: () => number;
  #tries: TryRecord[] | undefined = [];

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The options for one write: `carried(i)` names the leads its record `i` stands for. */
  options(endpoint: string, carried: (index: number) => readonly Carried[]): WriteOptions {
    return {
      onRetriedCall: (call) => {
        // A call reported after the round was recorded belongs to a write the round gave up on
        // (an unexpected error, every lead already scheduled for a retry): it is not kept.
        if (!this.#tries) return;
        const { error } = call;
        // As Marketo's answer for a failed record is kept (see responseOf): every error entry.
        const errors = (
          error instanceof ResponseLevelError
            ? error.errors
            : [{ code: error.code, message: error.message }]
        ).map(({ code, message }) => ({ code, message }));
        const response = { requestId: error.requestId, success: false, errors };
        const at = this.#now();
        for (const index of call.records) {
          for (const lead of carried(index)) {
            this.#tries.push({
              leadId: lead.leadId,
              n: lead.n,
              at,
              endpoint,
              request: lead.request,
              response,
              requestId: error.requestId,
              statusCode: error.code,
              reason: `${errors[0]?.message ?? error.message}; ${AFTERWARDS[call.then]}`,
              durationMs: call.durationMs,
            });
          }
        }
      },
    };
  }

  /** The calls collected, once: later calls are not kept. */
  take(): TryRecord[] {
    const tries = this.#tries ?? [];
    this.#tries = undefined;
    return tries;
  }
}
