import type { Hook } from "@hono/zod-openapi";
import { isMarketoError } from "@postout/marketo";
import type { Context, Env, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DestinationError, isDestinationError } from "../destinations/errors.ts";
import { isSecretKeyError } from "../secrets/errors.ts";
import { isStoreError, type StoreError } from "../store/errors.ts";

/** One problem with the request, naming the field (`leads.3.email`, `query.limit`). */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** A 4xx answer: `{ error, issues? }`. */
export function problem<S extends ContentfulStatusCode>(
  c: Context,
  status: S,
  error: string,
  issues?: readonly Issue[],
) {
  const body: { error: string; issues?: Issue[] } = { error };
  if (issues) body.issues = [...issues];
  return c.json(body, status);
}

/** Turns zod's failure into 400 `{ error, issues }`, each issue naming its field. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (result.success) return;
  const where = result.target === "json" ? "" : `${result.target}.`;
  const issues = result.error.issues.map((i) => ({
    path: `${where}${i.path.map(String).join(".")}`.replace(/\.$/, "") || "body",
    message: i.message,
  }));
  return problem(c, 400, `invalid ${result.target === "json" ? "body" : result.target}`, issues);
};

/**
 * The HTTP status of a store that cannot keep a request's data: 507 Insufficient Storage for a
 * full disk, 503 Service Unavailable for everything else (deleted, replaced, unwritable, I/O,
 * locked): the request may succeed once a person fixed the cause.
 */
export function storeErrorStatus(error: StoreError): 503 | 507 {
  return error.code === "full" ? 507 : 503;
}

/** 404 for an unknown destination; 409 for a name taken, a read-only one, or leads waiting. */
export function destinationErrorStatus(error: DestinationError): 404 | 409 {
  return error.code === "unknown" ? 404 : 409;
}

/**
 * Errors no handler answered: Hono's own (bad JSON, 413) keep their status; a store that cannot
 * keep data is a 503 or 507 naming the cause; Marketo being unreachable is a 502; anything else is a 500 that says nothing about the inside.
 */
export function errorHandler(log: (line: string) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof HTTPException) {
      return problem(c, error.status as ContentfulStatusCode, error.message || "bad request");
    }
    if (isDestinationError(error)) {
      return problem(c, destinationErrorStatus(error), error.message);
    }
    if (isSecretKeyError(error)) {
      // A key a person must fix (a key file too open, a wrong key): names keys, never a secret.
      log(`postout serve: ${error.message}`);
      return problem(c, 503, `the gateway cannot seal or open client secrets: ${error.message}`);
    }
    if (isStoreError(error)) {
      log(`postout serve: ${error.message}`);
      return problem(c, storeErrorStatus(error), error.message);
    }
    if (isMarketoError(error)) {
      // The client removes credentials from its messages; the code is enough for a caller.
      log(`postout serve: Marketo error ${error.name}`);
      return problem(c, 502, `Marketo did not answer as expected (${error.name})`);
    }
    log(`postout serve: ${error.name} in ${c.req.method} ${c.req.path}`);
    return problem(c, 500, "internal error");
  };
}
