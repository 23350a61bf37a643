import { after } from "node:test";
import { type Sandbox, type SandboxOptions, startSandbox } from "@postout/sandbox";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import type { MarketoClientOptions } from "../src/options.ts";
import type { MarketoEvent } from "../src/transport.ts";

/** Every duration of the sandbox runs 100× faster: the 20 s window lasts 200 ms. */
export const SCALE = 0.01;

export interface Rig {
  readonly sb: Sandbox;
  readonly client: MarketoClient;
  readonly events: MarketoEvent[];
  readonly logs: string[];
  /** A second client on the same sandbox, with other options. */
  make(overrides?: Partial<MarketoClientOptions>): MarketoClient;
  close(): Promise<void>;
}

/** A sandbox with Marketo's limits at `SCALE`, and a client whose gate and backoff match it. */
export async function rig(
  sandbox: SandboxOptions = {},
  overrides: Partial<MarketoClientOptions> = {},
): Promise<Rig> {
  clearTokenCache();
  const sb = await startSandbox({ timeScale: SCALE, seed: 1, ...sandbox });
  const events: MarketoEvent[] = [];
  const logs: string[] = [];
  const log = (line: string, data?: Record<string, unknown>) =>
    logs.push(`${line} ${JSON.stringify(data ?? {})}`);
  const make = (more: Partial<MarketoClientOptions> = {}) =>
    new MarketoClient({
      baseUrl: sb.url,
      clientId: sb.clientId,
      clientSecret: sb.clientSecret,
      gate: { windowMs: 20_000 * SCALE, windowMarginMs: 50, ...more.gate },
      retry: { baseDelayMs: 10, maxDelayMs: 200, maxTotalMs: 20_000, ...more.retry },
      tokenRefreshMarginMs: 60_000 * SCALE,
      onEvent: (e) => events.push(e),
      logger: { debug: log, info: log, warn: log, error: log },
      ...more,
      ...(more.gate
        ? { gate: { windowMs: 20_000 * SCALE, windowMarginMs: 50, ...more.gate } }
        : {}),
      ...(more.retry
        ? { retry: { baseDelayMs: 10, maxDelayMs: 200, maxTotalMs: 20_000, ...more.retry } }
        : {}),
    });
  const client = make(overrides);
  return { sb, client, events, logs, make, close: () => sb.close() };
}

/**
 * Options that run a client of `r` on the sandbox's clock, which stands still except when the
 * client's gate waits (for its window to roll or a pause to end) with none of its calls on
 * the wire: then it moves to the moment the wait ends. `onEvent` may move it too. Which calls
 * share a rate window, and which of them find the instance full, then follow from the calls
 * themselves and never from how fast the machine makes and answers them. The events still
 * reach `r.events`. For one client per sandbox: the waits of two gates would both move it.
 */
export function onSandboxClock(
  r: Rig,
  onEvent: (e: MarketoEvent) => void = () => {},
): Partial<MarketoClientOptions> {
  const clock = r.sb.clock;
  clock.freeze();
  let onWire = 0;
  let wakeAt: number | undefined;
  // After the answer's handling (share, pause, release: promise steps, no I/O) has run, so an
  // answer is handled at the moment it was given, not a window later.
  const moveSoon = () =>
    setImmediate(() => {
      if (onWire > 0 || wakeAt === undefined) return;
      if (wakeAt > clock.now()) clock.set(wakeAt);
      wakeAt = undefined;
    });
  return {
    now: () => clock.now(),
    onEvent: (e) => {
      r.events.push(e);
      if (e.type === "request") onWire++;
      if (e.type === "response") {
        onWire--;
        moveSoon();
      }
      // One gate waits at a time (waiters are served in order): the wait ends at one moment.
      if (e.type === "gate" && e.waitMs !== undefined) {
        wakeAt = Math.max(wakeAt ?? 0, clock.now() + e.waitMs);
        moveSoon();
      }
      onEvent(e);
    },
  };
}

/** The sandbox's call log, REST and bulk only (identity calls are listed separately). */
export function restCalls(sb: Sandbox) {
  return sb.calls().filter((c) => !c.path.startsWith("/identity"));
}

export function identityCalls(sb: Sandbox) {
  return sb.calls().filter((c) => c.path.startsWith("/identity"));
}

export function leads(n: number, prefix = "lead"): { email: string; firstName: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    email: `${prefix}${i}@example.com`,
    firstName: `F${i}`,
  }));
}

/**
 * For a describe block: a function that opens rigs like {@link rig}, all closed after the block.
 * Call it inside `describe`, where `after` belongs to that block.
 */
export function rigsClosedAfter(): (...args: Parameters<typeof rig>) => Promise<Rig> {
  const rigs: Rig[] = [];
  after(() => Promise.all(rigs.map((r) => r.close())));
  return async (...args) => {
    const r = await rig(...args);
    rigs.push(r);
    return r;
  };
}
