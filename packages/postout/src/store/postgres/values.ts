/**
 * Values as PostgreSQL takes them. Its text cannot hold U+0000: a NUL in what a source or
 * Marketo sent is kept as U+FFFD (on write and in filters alike, so both see the same text).
 */
export function text(value: string): string;
export function text(value: string | null | undefined): string | null;
export function text(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value;
}

/** Epoch ms as BIGINT takes it (a fraction of a millisecond is rounded). */
export const ms = (value: number): number => Math.round(value);
