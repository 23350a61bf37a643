import { clip, MAX_CHARS } from "@postout/marketo";

/**
 * Bounds on what a post-out log row keeps of Marketo's answer (or of whatever answered in its
 * place). The client already cuts each message to MAX_CHARS.message and keeps ten at most; the
 * store applies its own bound as well, so a hostile answer costs kilobytes per row whichever
 * way it arrived.
 */
export const ROW_BOUNDS = {
  /** The reason of an attempt (ResponseReason) and of the lead's last attempt. */
  reason: MAX_CHARS.message,
  /** The fix, written from the catalog with values Marketo named (a field, a list). */
  fix: 2 * MAX_CHARS.message,
  requestId: MAX_CHARS.requestId,
  statusCode: MAX_CHARS.code,
  /** Marketo's answer for one lead, as JSON text. */
  response: 4_096,
} as const;

export function boundedText(text: string | undefined, max: number): string | null {
  return text === undefined ? null : clip(text, max);
}

/**
 * An answer as the row keeps it, JSON text: whole when it fits, else `{"cut": "<its first
 * characters>… [cut N chars]"}`, still JSON so every reader can parse it.
 */
export function boundedResponse(response: unknown): string | null {
  if (response === undefined) return null;
  const text = JSON.stringify(response);
  if (text.length <= ROW_BOUNDS.response) return text;
  return JSON.stringify({ cut: clip(text, ROW_BOUNDS.response) });
}
