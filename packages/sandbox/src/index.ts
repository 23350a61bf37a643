import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Instant } from "./clock.ts";
import { Core } from "./core.ts";
import type { Fault, FaultSpec } from "./faults.ts";
import type { ForeignTrafficSpec } from "./foreign.ts";
import { resolveOptions, type SandboxOptions } from "./options.ts";
import { createApp } from "./server.ts";
import type { CallRecord } from "./stats.ts";

export type { Fault, FaultSpec } from "./faults.ts";
export type { ForeignTrafficSpec } from "./foreign.ts";
export { countsAgainstQuota, countsAgainstRateWindow } from "./limits.ts";
export type {
  ActivityTypeSpec,
  BulkPaceOptions,
  ChannelSpec,
  ChannelStatusSpec,
  CustomObjectSpec,
  LatencyOptions,
  ListSpec,
  PartitionSpec,
  ProgramSpec,
  RateLimitOptions,
  SandboxOptions,
} from "./options.ts";
export { nextQuotaReset, quotaDay } from "./quota-day.ts";
export type { DataType, FieldSpec } from "./schema.ts";
export type { CallRecord } from "./stats.ts";

/** A running sandbox. */
export interface Sandbox {
  /** `http://127.0.0.1:PORT`; REST at `/rest`, identity at `/identity`, bulk at `/bulk`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The settable clock that token expiry, windows, the quota day and bulk progress read. */
  readonly clock: {
    now(): number;
    set(at: Instant): void;
    advance(ms: number): void;
    /** Stops the clock; only set and advance move it until resume. */
    freeze(): void;
    /** Lets a frozen clock run again from where it stands. */
    resume(): void;
    readonly frozen: boolean;
  };
  /** Fault injection, as `/_sandbox/faults`. */
  readonly faults: {
    add(spec: FaultSpec): Fault;
    clear(): void;
    list(): Fault[];
    remove(id: number): boolean;
  };
  /** Every issued token becomes invalid; its next use answers 601. */
  revokeTokens(): void;
  /** Other apps using the instance: rate window, quota and concurrency slots (see ForeignTrafficSpec). */
  foreignTraffic(spec: ForeignTrafficSpec): void;
  /** As `GET /_sandbox/state`. */
  state(): Record<string, unknown>;
  /** As `GET /_sandbox/calls`. */
  calls(): CallRecord[];
  /** As `POST /_sandbox/reset`. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Starts a sandbox on 127.0.0.1 (port 0 by default) and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const core = new Core(resolved);
  const app = createApp(core);
  const { server, address } = await new Promise<{
    server: ReturnType<typeof serve>;
    address: AddressInfo;
  }>((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: resolved.port,
        hostname: resolved.host,
        // Large enough that an over-long URI reaches us and gets Marketo's 414, not Node's 431.
        serverOptions: {
          maxHeaderSize: Math.max(65_536, resolved.maxUriBytes * 4),
          keepAliveTimeout: 5000,
        },
      },
      (info) => resolve({ server, address: info }),
    );
    server.once("error", reject);
  });
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    clientId: resolved.clientId,
    clientSecret: resolved.clientSecret,
    clock: core.clock,
    faults: {
      add: (spec) => core.faults.add(spec),
      clear: () => core.faults.clear(),
      list: () => core.faults.list(),
      remove: (id) => core.faults.remove(id),
    },
    revokeTokens: () => core.tokens.revokeAll(),
    foreignTraffic: (spec) => core.foreign.apply(spec, core.clock.now()),
    state: () => core.state(),
    calls: () => core.stats.calls(),
    reset: () => core.reset(),
    close: () =>
      new Promise<void>((resolve) => {
        const http = server as import("node:http").Server;
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
