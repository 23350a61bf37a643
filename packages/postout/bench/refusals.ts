/**
 * 606 and 615 answers in a sandbox call log, and which of them our own calls caused.
 *
 * The sandbox logs only our calls (foreign traffic enters its window and holds its slots but is
 * not logged), so every 606/615 in the log is one we received. A refusal is self-caused when
 * our calls alone would have drawn it:
 * - 606: our calls that count in the sandbox's rolling window (§12: the asterisked codes leave
 *   it, refused calls stay in it), this one included, exceed the limit;
 * - 615: our calls admitted and still being served when it arrived reach the limit.
 * Otherwise the foreign traffic was needed to fill the window or the slots.
 * Arrival times come from the requestId (`<counter>#<hex epoch ms>`, sandbox README), since
 * the log's `at` has whole seconds only.
 */
import { type CallRecord, countsAgainstRateWindow } from "@postout/sandbox";

export interface Limits {
  readonly calls: number;
  readonly windowMs: number;
  readonly concurrency: number;
}

export interface Refusals {
  readonly c606: number;
  readonly c615: number;
  readonly self606: number;
  readonly self615: number;
}

/** Codes answered before a call takes a concurrency slot (token, 606, 615, 607). */
const NOT_ADMITTED = new Set(["601", "602", "606", "607", "615"]);

/** REST and bulk calls only: identity calls are outside the limits (§2.1, §12). */
export function restCalls(calls: readonly CallRecord[]): CallRecord[] {
  return calls.filter((c) => c.path.startsWith("/rest/") || c.path.startsWith("/bulk/"));
}

function arrival(call: CallRecord): number {
  const hex = call.requestId?.split("#")[1];
  return hex === undefined ? Date.parse(call.at) : Number.parseInt(hex, 16);
}

export function countRefusals(log: readonly CallRecord[], limits: Limits): Refusals {
  const calls = restCalls(log)
    .map((c) => ({ code: c.code, at: arrival(c), end: arrival(c) + c.durationMs }))
    .sort((a, b) => a.at - b.at);
  let c606 = 0;
  let c615 = 0;
  let self606 = 0;
  let self615 = 0;
  for (const [i, call] of calls.entries()) {
    if (call.code === "606") {
      c606++;
      let own = 0;
      for (let j = i; j >= 0; j--) {
        const earlier = calls[j] as (typeof calls)[number];
        if (earlier.at <= call.at - limits.windowMs) break;
        if (countsAgainstRateWindow(earlier.code, true)) own++;
      }
      if (own > limits.calls) self606++;
    } else if (call.code === "615") {
      c615++;
      let own = 0;
      for (let j = 0; j < i; j++) {
        const earlier = calls[j] as (typeof calls)[number];
        if (!NOT_ADMITTED.has(earlier.code) && earlier.end > call.at) own++;
      }
      if (own >= limits.concurrency) self615++;
    }
  }
  return { c606, c615, self606, self615 };
}
