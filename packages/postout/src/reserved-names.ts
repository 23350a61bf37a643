/**
 * Field names refused wherever a lead, a field map or a request body names fields. JavaScript
 * gives them meaning on every object (`__proto__` sets an object's prototype, so parsers and
 * validators drop it as a key), and raw input is kept exactly as received or refused, never
 * altered.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/** Why a reserved name is refused, and what to do: for a reason or an issue's message. */
export function reservedNameReason(name: string): string {
  return `"${name}" is a reserved name (__proto__, constructor and prototype cannot be kept as field names); rename it and send it again`;
}

/**
 * The path (`leads.3.__proto__`) of the first reserved key in a parsed JSON value, or
 * `undefined` when it has none. Reads own keys only, as JSON.parse makes them.
 */
export function reservedKeyPath(value: unknown, path: readonly string[] = []): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  for (const key of Object.keys(value)) {
    const here = [...path, key];
    if (isReservedName(key)) return here.join(".");
    const inner = reservedKeyPath((value as Record<string, unknown>)[key], here);
    if (inner !== undefined) return inner;
  }
  return undefined;
}
