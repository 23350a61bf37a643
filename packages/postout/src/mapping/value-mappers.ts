import type { ValueMapper } from "./field-map.ts";
import type { Problem } from "./problem.ts";
import { shown } from "./problem.ts";

const lowerIndexes = new WeakMap<ValueMapper, Map<string, string>>();

function lowerIndex(mapper: ValueMapper): Map<string, string> {
  let index = lowerIndexes.get(mapper);
  if (index === undefined) {
    index = new Map(Object.entries(mapper.map).map(([k, v]) => [k.toLowerCase(), v]));
    lowerIndexes.set(mapper, index);
  }
  return index;
}

/**
 * Looks a (trimmed, non-empty) value up in a list value mapper: its mapping, else the default,
 * else a problem naming the field, the value, the known values and the two ways to fix it.
 */
export function applyValueMapper(
  field: string,
  value: string,
  mapper: ValueMapper,
): { value: string } | { problem: Problem } {
  const found = Object.hasOwn(mapper.map, value)
    ? mapper.map[value]
    : mapper.caseInsensitive
      ? lowerIndex(mapper).get(value.toLowerCase())
      : undefined;
  if (found !== undefined) return { value: found };
  if (mapper.default !== undefined) return { value: mapper.default };
  const keys = Object.keys(mapper.map);
  const known = keys.length > 10 ? `${keys.slice(0, 10).join(", ")}, …` : keys.join(", ");
  return {
    problem: {
      code: "no-value-mapping",
      field,
      value,
      message: `${field}: no mapping for '${shown(value)}' (known: ${known || "none"})`,
      fix: `Add '${shown(value)}' to values.${field}.map or set values.${field}.default in the field map, then repost.`,
    },
  };
}
