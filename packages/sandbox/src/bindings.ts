import type { HttpBindings } from "@hono/node-server";
import type { Core } from "./core.ts";
import type { Instances } from "./instances.ts";

/**
 * What the host hands the app with each request, besides Node's request and response: the
 * instance it is for and the path as that instance sees it, so every handler reads one
 * instance exactly as a single sandbox would.
 */
export interface Target {
  /** The instance the request is for. */
  core: Core;
  /** The request path without the instance prefix: `/rest/v1/leads.json`. */
  path: string;
  /** The instance prefix, `/i/0007`, or "" at the root. */
  prefix: string;
  /** Every instance of the sandbox, for the root's `/_sandbox/instances`. */
  instances: Instances;
}

/** The Hono environment of the sandbox app. */
export type Env = { Bindings: HttpBindings & Target };
