import { type FieldMap, FieldMapError, IDENTITY_MAP, parseFieldMap } from "../mapping/field-map.ts";
import type { Issue } from "./errors.ts";

/** The request's field map, or the identity map without one; a bad map is a list of issues under `map`. */
export function fieldMapOf(
  map: Readonly<Record<string, unknown>> | undefined,
): { readonly map: FieldMap } | { readonly issues: Issue[] } {
  if (map === undefined) return { map: IDENTITY_MAP };
  try {
    return { map: parseFieldMap(map, "map") };
  } catch (error) {
    if (!(error instanceof FieldMapError)) throw error;
    return {
      issues: error.issues.map((line) => {
        const at = line.indexOf(": ");
        const where = at > 0 ? line.slice(0, at) : "(top level)";
        return {
          path: where === "(top level)" ? "map" : `map.${where}`,
          message: at > 0 ? line.slice(at + 2) : line,
        };
      }),
    };
  }
}
