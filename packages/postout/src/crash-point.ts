import type { Step } from "./store/store.ts";

/**
 * The moments of a lead's delivery where a process can die, named so the crash tests can kill
 * it exactly there (`POSTOUT_CRASH_AT`, read once at start; unset in production, where every
 * call is a no-op):
 * - `gate`: the step's leads are handed to the client and wait for a gate slot; nothing is on the wire.
 * - `wire`: a call's wire mark is on disk; the request has not left.
 * - `sent`: 20 ms after the request was handed to the network (Marketo may carry it out or
 *   not); its answer is not read.
 * - `answer`: the step's answers are in; nothing of them is recorded.
 * - `recorded`: a round's attempts are recorded.
 *
 * `POSTOUT_CRASH_AT=moment[@step][:n]` kills the process with SIGKILL the n-th time (default
 * 1st) it reaches that moment, counting only the step named (lead, list, customObject,
 * activity) when one is: `answer@list:2` dies after the second static-list answer.
 */
export type CrashMoment = "gate" | "wire" | "sent" | "answer" | "recorded";

interface Plan {
  readonly moment: CrashMoment;
  readonly step: Step | undefined;
  readonly n: number;
}

const PATTERN =
  /^(gate|wire|sent|answer|recorded)(?:@(lead|list|customObject|activity))?(?::(\d+))?$/;

function planOf(text: string | undefined): Plan | undefined {
  if (!text) return undefined;
  const match = PATTERN.exec(text);
  if (!match) throw new Error(`POSTOUT_CRASH_AT: '${text}' is not moment[@step][:n]`);
  return {
    moment: match[1] as CrashMoment,
    step: match[2] as Step | undefined,
    n: Number(match[3] ?? 1),
  };
}

const plan = planOf(process.env.POSTOUT_CRASH_AT);
let reached = 0;

/** Dies here when the crash plan names this moment (and step) for the n-th time. */
export function crashPoint(moment: CrashMoment, step?: Step): void {
  if (!plan || plan.moment !== moment) return;
  if (plan.step !== undefined && plan.step !== step) return;
  reached += 1;
  if (reached !== plan.n) return;
  const kill = () => process.kill(process.pid, "SIGKILL");
  // `sent` is reached as the request is handed over: die a moment later, with it on its way.
  if (moment === "sent") setTimeout(kill, 20);
  else kill();
}
