import { type Context, Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { Env } from "./bindings.ts";
import { controlApp } from "./control.ts";
import type { Core } from "./core.ts";
import { type Answer, answerCode, fail } from "./envelope.ts";
import { toResponse } from "./http-answers.ts";
import { identity } from "./identity-endpoint.ts";
import { countsAgainstQuota, countsAgainstRateWindow } from "./limits.ts";
import { callInput, readBody } from "./request-body.ts";
import { type CallInput, isRecord, match, type Route } from "./routes.ts";
import { isoSeconds } from "./schema.ts";
import { sleep } from "./sleep.ts";

function bearer(c: Context<Env>, acceptQuery: boolean): string | undefined {
  const header = c.req.header("authorization");
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m?.[1] !== undefined) return m[1];
  // §2.4: the access_token query parameter was removed on 2026-08-31. By default it is
  // treated as no token at all (unverified: we answer 601, as for any missing token).
  return acceptQuery
    ? (new URL(c.req.url).searchParams.get("access_token") ?? undefined)
    : undefined;
}

function refusal(code: string, core: Core): Answer {
  const { rateLimit } = core.options;
  if (code === "606" && rateLimit !== false) {
    return fail("606", rateLimit.calls, Math.round(rateLimit.windowMs / 1000));
  }
  return fail(code);
}

function recordsIn(call: CallInput): number {
  return isRecord(call.body) && Array.isArray(call.body.input) ? call.body.input.length : 0;
}

/**
 * The REST and bulk pipeline: the size limit, then the rate window around everything else.
 * §12: a call enters the window when it arrives, and is taken back when its answer is one
 * that does not count (see countsAgainstRateWindow).
 */
async function restCall(
  core: Core,
  c: Context<Env>,
  routes: readonly Route[],
  now: number,
): Promise<Answer> {
  const { options } = core;
  core.tick(now);
  const limit = c.req.path.startsWith("/bulk/") ? options.maxBulkBodyBytes : options.maxBodyBytes;
  // §12: 413 past 1 MB (10 MB for bulk), decided from Content-Length when it is sent.
  if (Number(c.req.header("content-length") ?? 0) > limit) return { kind: "http", status: 413 };
  core.window?.add(now);
  const answer = await admitted(core, c, routes, now, limit);
  const countRejected = options.rateLimit !== false && options.rateLimit.countRejected;
  if (!countsAgainstRateWindow(answerCode(answer), countRejected)) core.window?.remove(now);
  return answer;
}

/** Token, 606, 615, 607, then faults and the route, holding a concurrency slot. */
async function admitted(
  core: Core,
  c: Context<Env>,
  routes: readonly Route[],
  now: number,
  limit: number,
): Promise<Answer> {
  const { options } = core;
  const path = c.req.path;
  const method = c.req.method;
  const refused = async (code: string): Promise<Answer> => {
    await sleep(options.latency.refusal * options.timeScale);
    return refusal(code, core);
  };
  const token = core.tokens.check(bearer(c, options.acceptAccessTokenQuery), now);
  if (!token.ok) return refused(token.code);
  // §12 606: more than `calls` in the past `windowMs`, this call included.
  if (options.rateLimit !== false && (core.window?.count(now) ?? 0) > options.rateLimit.calls) {
    return refused("606");
  }
  // §12 615: already `concurrency` calls in flight (ours plus other apps').
  if (options.concurrency !== false && core.slotsInUse(now) >= options.concurrency) {
    return refused("615");
  }
  // §12 607: the daily quota is used up until midnight America/Chicago.
  if (options.dailyQuota !== false && core.quota.used(now) >= options.dailyQuota) {
    return refused("607");
  }
  core.inFlight++;
  core.stats.highestInFlight = Math.max(core.stats.highestInFlight, core.slotsInUse(now));
  try {
    const fault = core.faults.draw(method, path);
    if (fault !== undefined) {
      if (fault.code === "reset") return { kind: "reset" };
      if (fault.code === "slow") await sleep(fault.delayMs);
      else {
        await sleep(options.latency.refusal * options.timeScale);
        const status = Number(fault.code);
        return status >= 500 && status < 600 ? { kind: "http", status } : refusal(fault.code, core);
      }
    }
    const methodGet =
      method === "POST" && new URL(c.req.url).searchParams.get("_method")?.toUpperCase() === "GET";
    const found = match(routes, methodGet ? "GET" : method, path);
    if (found.kind === "unknown") return fail("610");
    if (found.kind === "wrong-method") return fail("605");
    const bytes = method === "GET" ? new Uint8Array(0) : await readBody(c.req.raw, limit);
    if (bytes === "too-large") return { kind: "http", status: 413 };
    const input = await callInput(c, found.route, found.params, methodGet, bytes);
    if ("kind" in input) return input;
    const answer = await found.route.handle(input);
    const { latency } = options;
    const extra = found.route.latency === "write" ? latency.perRecord * recordsIn(input) : 0;
    await sleep((latency[found.route.latency] + extra) * options.timeScale);
    return answer;
  } finally {
    core.inFlight--;
  }
}

/** Sends an answer and writes it to the call log and the statistics. */
function finish(
  core: Core,
  c: Context<Env>,
  answer: Answer,
  started: number,
  arrived: number,
  rest: boolean,
): Response {
  const code = answerCode(answer);
  const counted = rest && countsAgainstQuota(code);
  if (counted) core.quota.consume(arrived);
  const { response, requestId } = toResponse(answer, core.nextCall(), arrived);
  core.stats.record(
    {
      at: isoSeconds(arrived),
      method: c.req.method,
      path: c.req.path,
      code,
      status: answer.kind === "reset" ? 0 : response.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      counted,
      requestId,
    },
    core.options.scope,
    arrived,
  );
  if (answer.kind === "reset") {
    // A connection reset: destroy the socket so the client sees ECONNRESET, not an answer.
    c.env.incoming.socket.destroy();
  }
  return response;
}

/**
 * The Hono app: /_sandbox controls, /identity, then every Marketo path. One app serves every
 * instance: the host names the instance and its path in the bindings (see Target).
 */
export function createApp(): Hono<Env> {
  const app = new Hono<Env>({
    getPath: (request, options) =>
      (options?.env as Env["Bindings"] | undefined)?.path ?? getPath(request),
  });
  app.route("/_sandbox", controlApp());
  app.all("/_sandbox/*", (c) => c.json({ error: "unknown sandbox control" }, 404));
  app.all("*", async (c) => {
    const { core, prefix } = c.env;
    const started = performance.now();
    const arrived = core.clock.now();
    // The instance prefix is not part of the request target Marketo would see.
    const raw = c.env.incoming.url?.slice(prefix.length) ?? c.req.path;
    // §6.3: 414 past 8 KB of request target; the gateway refuses it before anything else.
    if (Buffer.byteLength(raw) > core.options.maxUriBytes) {
      return finish(core, c, { kind: "http", status: 414 }, started, arrived, false);
    }
    if (c.req.path === "/identity/oauth/token" || c.req.path.startsWith("/identity/")) {
      return finish(core, c, await identity(core, c), started, arrived, false);
    }
    if (!c.req.path.startsWith("/rest/") && !c.req.path.startsWith("/bulk/")) {
      return finish(core, c, fail("610"), started, arrived, false);
    }
    return finish(core, c, await restCall(core, c, core.routes, arrived), started, arrived, true);
  });
  // Any unexpected failure is Marketo's 611 "System error", never a stack trace.
  app.onError((_error, c) => {
    const { core } = c.env;
    const { response } = toResponse(fail("611"), core.nextCall(), core.clock.now());
    return response;
  });
  app.notFound((c) => {
    const { core } = c.env;
    return toResponse(fail("610"), core.nextCall(), core.clock.now()).response;
  });
  return app;
}
