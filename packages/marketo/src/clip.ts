/**
 * Bounds on text read from outside. A Marketo host (or whatever answers in its place) can send
 * a message of 200 KB or a requestId of a megabyte; whatever the client keeps of it, in an
 * error or a per-record reason, is cut to these lengths so that one hostile answer costs
 * kilobytes wherever it is stored, not megabytes per record.
 */
export const MAX_CHARS = {
  /** One message Marketo sent: a member of `errors[]` or `reasons[]`, a status message, a file row's reason. */
  message: 1_000,
  /** A requestId (Marketo's are about 20 characters: `e42b#14272d07d78`). */
  requestId: 100,
  /** A code or a status word (Marketo's are at most a dozen characters: `1006`, `memberof`). */
  code: 40,
  /** A URL Marketo named, such as the `Location` of a redirect. */
  url: 1_000,
  /** The body of an answer kept on an error as `raw.body`. */
  body: 65_536,
} as const;

/** Members of one `errors[]` or `reasons[]` kept; Marketo documents one per record or call. */
export const MAX_REASONS = 10;

/**
 * `text` if it is at most `max` characters long, else its first `max` characters followed by
 * a visible marker saying how much was cut: `"abc… [cut 199,000 chars]"`. Never splits a
 * surrogate pair. Lengths are UTF-16 code units, as `String.length` counts them.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let keep = Math.max(0, Math.floor(max));
  const last = text.charCodeAt(keep - 1);
  // A high surrogate at the cut would leave half a character behind.
  if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep--;
  return `${text.slice(0, keep)}… [cut ${(text.length - keep).toLocaleString("en-US")} chars]`;
}
