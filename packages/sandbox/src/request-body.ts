import type { Context } from "hono";
import type { Env } from "./bindings.ts";
import { type Answer, fail } from "./envelope.ts";
import { type CallInput, isRecord, type Route } from "./routes.ts";

// How a REST call's body becomes a handler's input: size-capped reading, then JSON, form or
// multipart by the route's kind, with Marketo's codes for each way a body can be wrong.

/** Reads a body, stopping as soon as it passes `limit` bytes. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array | "too-large"> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return "too-large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function contentType(c: Context<Env>): string {
  return (c.req.header("content-type") ?? "").toLowerCase();
}

/** Parses a JSON body; 609 when it is not JSON (§13.2). */
function parseJson(
  bytes: Uint8Array,
): { ok: true; value: unknown } | { ok: false; answer: Answer } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return { ok: false, answer: fail("609") };
  }
}

/**
 * Builds the handler input from the body, by the route's kind. 612 for a wrong or missing
 * Content-Type, 609 for bad JSON, 613 for a broken multipart body (§13.2).
 */
export async function callInput(
  c: Context<Env>,
  route: Route,
  params: string[],
  methodGet: boolean,
  bytes: Uint8Array,
): Promise<CallInput | Answer> {
  const query = new URL(c.req.url).searchParams;
  const type = contentType(c);
  if (methodGet) {
    // §6.3: POST …?_method=GET carries the query in a form body, or JSON for compound keys.
    query.delete("_method");
    if (type.startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(Buffer.from(bytes).toString("utf8")))
        query.append(k, v);
      return { params, query, body: undefined };
    }
    if (type.startsWith("application/json")) {
      const parsed = parseJson(bytes);
      if (!parsed.ok) return parsed.answer;
      if (!isRecord(parsed.value)) return fail("609");
      for (const [k, v] of Object.entries(parsed.value)) {
        if (typeof v === "string" || typeof v === "number" || typeof v === "boolean")
          query.set(k, String(v));
        else if (Array.isArray(v) && v.every((x) => typeof x !== "object"))
          query.set(k, v.join(","));
      }
      return { params, query, body: parsed.value };
    }
    return fail("612");
  }
  switch (route.body) {
    case "none":
      return { params, query, body: undefined };
    case "optional-json":
    case "json": {
      // An optional body may be empty; when present it must be JSON.
      if (route.body === "optional-json" && bytes.byteLength === 0) {
        return { params, query, body: undefined };
      }
      if (!type.startsWith("application/json")) return fail("612");
      const parsed = parseJson(bytes);
      return parsed.ok ? { params, query, body: parsed.value } : parsed.answer;
    }
    case "multipart": {
      if (!type.startsWith("multipart/form-data")) return fail("612");
      try {
        const form = await new Response(bytes, { headers: { "content-type": type } }).formData();
        return { params, query, body: form };
      } catch {
        return fail("613");
      }
    }
  }
}
