import type { Answer } from "./envelope.ts";
import type { LatencyOptions } from "./options.ts";

/** How a route reads its body. */
export type BodyKind = "none" | "json" | "optional-json" | "multipart";

/** What a handler receives. */
export interface CallInput {
  /** Path parameters captured by the route's pattern, in order. */
  params: string[];
  /** Query parameters; for `POST …?_method=GET` the body's parameters are merged in. */
  query: URLSearchParams;
  /** The parsed JSON body, or the FormData of a multipart body; undefined when none. */
  body: unknown;
}

/** One Marketo endpoint. */
export interface Route {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  body: BodyKind;
  latency: Exclude<keyof LatencyOptions, "identity" | "perRecord" | "refusal">;
  handle(call: CallInput): Answer | Promise<Answer>;
}

/** Result of matching a path against the route table. */
export type Match =
  | { kind: "found"; route: Route; params: string[] }
  | { kind: "wrong-method" }
  | { kind: "unknown" };

/** §13.2: 610 when no route has this path, 605 when one has it under another method. */
export function match(routes: readonly Route[], method: string, path: string): Match {
  let pathKnown = false;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m === null) continue;
    if (route.method === method) {
      try {
        return { kind: "found", route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
      } catch {
        // A malformed percent-escape names no resource.
        return { kind: "unknown" };
      }
    }
    pathKnown = true;
  }
  return pathKnown ? { kind: "wrong-method" } : { kind: "unknown" };
}

/** Values of a multi-valued parameter: repeated (`id=1&id=2`) or comma-separated (`id=1,2`). */
export function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
