import type { Issue } from "./types.ts";

export type { Issue };

/**
 * A gateway answer that was not 2xx: the status, its `error`, the issues naming fields, and the
 * whole body for answers that carry more (a removal refused says how many leads wait).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly issues: readonly Issue[];
  readonly body: unknown;
  constructor(status: number, message: string, issues: readonly Issue[] = [], body?: unknown) {
    super(message);
    this.status = status;
    this.issues = issues;
    this.body = body;
  }
}

/** What to show for an error: the gateway's message, then each issue with its field. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = error.issues.map((i) => `${i.path}: ${i.message}`);
    return [error.message, ...issues].join(" — ");
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Calls the gateway's API with the session cookie. Every request carries the dashboard's
 * header, without which the gateway refuses a cookie-authorized change (no cross-site posts).
 * A 401 means the session ended: back to the sign-in page.
 */
export async function api<T>(
  path: string,
  options: { readonly method?: string; readonly body?: unknown } = {},
): Promise<T> {
  const res = await fetch(path, {
    method: options.method ?? "GET",
    credentials: "same-origin",
    headers: {
      "x-postout-dashboard": "1",
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  if (res.status === 401) {
    window.location.assign("/login");
    throw new ApiError(401, "signed out");
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `the gateway answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const body = (json ?? {}) as { error?: string; issues?: Issue[] };
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`, body.issues ?? [], json);
  }
  return json as T;
}

/** A query string from the set values only. */
export function query(params: Readonly<Record<string, string | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}
