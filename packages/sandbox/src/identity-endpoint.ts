import type { Context } from "hono";
import type { Env } from "./bindings.ts";
import type { Core } from "./core.ts";
import { type Answer, fail } from "./envelope.ts";
import { sleep } from "./sleep.ts";

/**
 * §2.1 `/identity/oauth/token`, GET or POST, parameters in the query (a form-encoded POST
 * body is accepted too; unverified). Not counted against quota or rate (swagger).
 */
export async function identity(core: Core, c: Context<Env>): Promise<Answer> {
  const { options } = core;
  const now = core.clock.now();
  if (c.req.path !== "/identity/oauth/token") return fail("610");
  if (c.req.method !== "GET" && c.req.method !== "POST") return fail("605");
  const fault = core.faults.draw(c.req.method, c.req.path);
  if (fault?.code === "reset") return { kind: "reset" };
  if (fault?.code === "slow") await sleep(fault.delayMs);
  else if (fault !== undefined) {
    const status = Number(fault.code);
    return status >= 500 && status < 600 ? { kind: "http", status } : fail(fault.code);
  }
  const params = new URL(c.req.url).searchParams;
  if (
    c.req.method === "POST" &&
    (c.req.header("content-type") ?? "").startsWith("application/x-www-form-urlencoded")
  ) {
    const text = await c.req.text().catch(() => "");
    for (const [k, v] of new URLSearchParams(text)) if (!params.has(k)) params.set(k, v);
  }
  await sleep(options.latency.identity * options.timeScale);
  const grant = params.get("grant_type");
  // unverified (§2.3): missing or other grant types answer RFC 6749 §5.2 errors with 400.
  if (grant === null || grant === "") {
    return {
      kind: "json",
      status: 400,
      body: { error: "invalid_request", error_description: "Missing grant type" },
    };
  }
  if (grant !== "client_credentials") {
    return {
      kind: "json",
      status: 400,
      body: {
        error: "unsupported_grant_type",
        error_description: `Unsupported grant type: ${grant}`,
      },
    };
  }
  if (
    params.get("client_id") !== options.clientId ||
    params.get("client_secret") !== options.clientSecret
  ) {
    // §2.3: 401 on bad credentials; the body shape is unverified.
    return {
      kind: "json",
      status: 401,
      body: { error: "invalid_client", error_description: "Bad client credentials" },
    };
  }
  return { kind: "json", status: 200, body: core.tokens.issue(options.clientId, now) };
}
