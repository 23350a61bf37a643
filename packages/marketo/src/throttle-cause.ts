/**
 * Marketo's documented limits per instance, shared by every app that uses it (§12):
 * 606 past 100 calls in the rolling 20 s, 615 past 10 calls in flight.
 */
export const INSTANCE_LIMITS = { callsPerWindow: 100, concurrency: 10 } as const;

/** Whose calls filled the instance: this client's own, or other apps'. */
export type ThrottleCause = "self" | "foreign";

/** This client's own calls when a call was sent, that call not counted. */
export interface OwnLoad {
  /** Calls started in the gate's rolling window (Marketo's 20 s plus the gate's margin). */
  readonly inWindow: number;
  readonly inFlight: number;
}

/**
 * Marketo does not say whose calls filled the instance, so: a 606 or 615 is self-caused when
 * this client's own traffic alone explains it — it had already made 100 calls in the window
 * (606) or had 10 in flight (615) when it sent the refused call — and foreign otherwise.
 */
export function throttleCause(code: string, load: OwnLoad): ThrottleCause {
  if (code === "606") return load.inWindow >= INSTANCE_LIMITS.callsPerWindow ? "self" : "foreign";
  return load.inFlight >= INSTANCE_LIMITS.concurrency ? "self" : "foreign";
}
