import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { InstanceHandle, type SandboxInstance } from "./handle.ts";
import { hostFetch } from "./host.ts";
import { Instances } from "./instances.ts";
import { resolveOptions, type SandboxOptions } from "./options.ts";
import { createApp } from "./server.ts";

export type { Fault, FaultSpec } from "./faults.ts";
export type { ForeignTrafficSpec } from "./foreign.ts";
export type { RecordsQuery, SandboxClock, SandboxFaults, SandboxInstance } from "./handle.ts";
export type { InstanceListing } from "./instances.ts";
export { countsAgainstQuota, countsAgainstRateWindow } from "./limits.ts";
export type {
  ActivityTypeSpec,
  BulkPaceOptions,
  ChannelSpec,
  ChannelStatusSpec,
  CustomObjectSpec,
  InstanceOptions,
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

/** A running sandbox: its root instance, any numbered instances, and close. */
export interface Sandbox extends SandboxInstance {
  /** `http://127.0.0.1:PORT`; REST at `/rest`, identity at `/identity`, bulk at `/bulk`. */
  readonly url: string;
  /**
   * The numbered instances of the `instances` option, in order: `instances[7].url` is
   * `${url}/i/0007`. Empty without that option. Each is made on its first request or
   * control call; reading its url and credentials makes nothing.
   */
  readonly instances: readonly SandboxInstance[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

class RunningSandbox extends InstanceHandle implements Sandbox {
  readonly instances: readonly SandboxInstance[];
  readonly #server: Server;

  constructor(url: string, instances: Instances, server: Server) {
    const { options } = instances.root;
    super(url, options, () => instances.root);
    this.instances = Array.from(
      { length: instances.count },
      (_, index) =>
        new InstanceHandle(`${url}${instances.prefix(index)}`, instances.credentials(index), () =>
          instances.core(index),
        ),
    );
    this.#server = server;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Starts a sandbox on 127.0.0.1 (port 0 by default) and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const instances = new Instances(options, resolved);
  const app = createApp();
  const { server, address } = await new Promise<{
    server: Server;
    address: AddressInfo;
  }>((resolve, reject) => {
    const server = serve(
      {
        fetch: hostFetch(instances, app),
        port: resolved.port,
        hostname: resolved.host,
        // Large enough that an over-long URI reaches us and gets Marketo's 414, not Node's 431.
        serverOptions: {
          maxHeaderSize: Math.max(65_536, instances.maxUriBytes * 4),
          keepAliveTimeout: 5000,
        },
      },
      (info) => resolve({ server: server as Server, address: info }),
    );
    server.once("error", reject);
  });
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return new RunningSandbox(`http://${host}:${address.port}`, instances, server);
}
