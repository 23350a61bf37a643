import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Gateway } from "../gateway.ts";
import type { Store } from "../store/store.ts";

/** What every route module reads: the running gateway, its store, and the clock. */
export interface ApiDeps {
  readonly gateway: Gateway;
  readonly store: Store;
  readonly now: () => number;
  /**
   * The daily quota the forecast counts against (Marketo's typical 50,000; an instance may have more).
   * @default 50_000
   */
  readonly dailyQuota: number;
  /** Where field maps sent over the API are kept, so repost maps with them again; without it, they are not kept. */
  readonly mapDir: string | undefined;
}

export type Api = OpenAPIHono;

/** `{ apiKey: [] }`: the security requirement every `/v1` route documents. */
export const SECURED = [{ apiKey: [] }, { bearer: [] }];
