import type { MiddlewareHandler } from "hono";
import { RESERVED_NAMES, reservedKeyPath, reservedNameReason } from "../reserved-names.ts";
import { problem } from "./errors.ts";
import { invalidUtf8Offset } from "./utf8-offset.ts";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/**
 * Refuses, with 400, a JSON body that is not valid UTF-8 (naming the byte offset) or that names a
 * reserved key (`__proto__`, `constructor`, `prototype`, naming its path), before a route reads
 * it: raw input is kept exactly as sent or refused, never decoded with U+FFFD or stripped of a
 * key. A body that is not JSON at all is left to the route's validator.
 */
export function strictJsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) return next();
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const offset = invalidUtf8Offset(bytes);
    if (offset !== undefined) {
      const message = `not valid UTF-8 at byte ${offset} (0-based); send the body encoded as UTF-8`;
      return problem(c, 400, `the body is ${message}`, [{ path: "body", message }]);
    }
    const text = new TextDecoder().decode(bytes);
    // Parsed only when a reserved name occurs in the text at all.
    if (![...RESERVED_NAMES].some((name) => text.includes(`"${name}"`))) return next();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return next();
    }
    const path = reservedKeyPath(parsed);
    if (path === undefined) return next();
    const name = path.slice(path.lastIndexOf(".") + 1);
    return problem(c, 400, `reserved key "${name}" at ${path}`, [
      { path, message: reservedNameReason(name) },
    ]);
  };
}
