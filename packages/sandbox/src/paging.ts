// §3.5: position-based paging. Tokens are opaque base32-looking strings like Marketo's
// (`PS5VL5WD…===`); ours encode the offset and a hash of the query, so no state is kept and
// a token from another query is refused (unverified: we answer 1003 "Invalid data").

import { base32, unbase32 } from "./base32.ts";

function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** §3.5: default and maximum batch size of lead-database reads. */
export const maxBatchSize = 300;

/** A page of `rows` for `query`: the rows and the paging members of the envelope. */
export type Page<T> = { ok: true; rows: T[]; extra: Record<string, unknown> } | { ok: false };

/**
 * Cuts one page out of `rows`. `batchSize` above 300 is lowered to 300 (unverified: Marketo
 * may refuse it; we clamp). The envelope gets `nextPageToken` and `moreResult: true` only
 * when another page exists.
 */
export function page<T>(
  rows: T[],
  query: string,
  batchSizeParam: string | null,
  tokenParam: string | null,
): Page<T> {
  const requested =
    batchSizeParam === null || batchSizeParam === "" ? maxBatchSize : Number(batchSizeParam);
  if (!Number.isInteger(requested) || requested < 1) return { ok: false };
  const size = Math.min(requested, maxBatchSize);
  let offset = 0;
  if (tokenParam !== null && tokenParam !== "") {
    const decoded = unbase32(tokenParam);
    const match = decoded === undefined ? null : /^p(\d+):(\w+)$/.exec(decoded);
    if (match === null || match[2] !== hash(query)) return { ok: false };
    offset = Number(match[1]);
  }
  const slice = rows.slice(offset, offset + size);
  const next = offset + size;
  const extra: Record<string, unknown> =
    next < rows.length
      ? { moreResult: true, nextPageToken: base32(`p${next}:${hash(query)}`) }
      : {};
  return { ok: true, rows: slice, extra };
}
