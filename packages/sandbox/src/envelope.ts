import { message } from "./codes.ts";

// §3.1: errors carry the code as a quoted string; warnings (lead database) as integers.
export interface CodeAndMessage {
  code: string;
  message: string;
}

/** One result item that was skipped, with its reason (§3.3). */
export interface Skipped {
  status: "skipped";
  reasons: CodeAndMessage[];
}

/** A lead-database envelope without its requestId; the server puts the requestId first. */
export type Envelope = Record<string, unknown> & { success: boolean };

/** What a handler answers; the server turns it into HTTP. */
export type Answer =
  | { kind: "envelope"; body: Envelope }
  | { kind: "file"; contentType: string; text: string }
  | { kind: "http"; status: number }
  | { kind: "json"; status: number; body: unknown }
  | { kind: "reset" };

/** `code` with its catalogue message (or `text` when the docs use another wording). */
export function reason(code: string, ...args: Array<string | number>): CodeAndMessage {
  return { code, message: message(code, ...args) };
}

/** A record-level skip (§3.3): `status:"skipped"` plus `reasons`. */
export function skipped(code: string, ...args: Array<string | number>): Skipped {
  return { status: "skipped", reasons: [reason(code, ...args)] };
}

// §3.1: official examples omit `errors`/`warnings` on success and `result` on failure; we
// mirror the examples and omit empty members (unverified: the exact omission rule).
/** A successful envelope with `result` and any paging members. */
export function ok(result: unknown[], extra: Record<string, unknown> = {}): Answer {
  return { kind: "envelope", body: { ...extra, result, success: true } };
}

/** A response-level failure (§13.2): HTTP 200, `success:false`, `errors[]`. */
export function fail(code: string, ...args: Array<string | number>): Answer {
  return { kind: "envelope", body: { success: false, errors: [reason(code, ...args)] } };
}

/** A response-level failure with a message the docs word differently from the table. */
export function failWith(code: string, text: string): Answer {
  return { kind: "envelope", body: { success: false, errors: [{ code, message: text }] } };
}

// §3.4: asset API envelopes always carry `warnings` (strings) and `errors`.
/** An asset-API envelope. */
export function assetOk(result: unknown[]): Answer {
  if (result.length === 0) {
    // §3.4: no match is success with this warning (documented for emails; unverified for
    // programs and static lists: we answer the same, with no `result`).
    return {
      kind: "envelope",
      body: {
        success: true,
        warnings: ["No assets found for the given search criteria."],
        errors: [],
      },
    };
  }
  return { kind: "envelope", body: { success: true, warnings: [], errors: [], result } };
}

/** The code an answer is logged under: "200" for success, else the first error code. */
export function answerCode(answer: Answer): string {
  switch (answer.kind) {
    case "envelope": {
      if (answer.body.success) return "200";
      const errors = answer.body.errors as CodeAndMessage[] | undefined;
      return errors?.[0]?.code ?? "611";
    }
    case "file":
      return "200";
    case "http":
    case "json":
      return String(answer.status);
    case "reset":
      return "reset";
  }
}

/**
 * §3.1: requestId looks like `e42b#14272d07d78`; the part after `#` decodes to the epoch
 * milliseconds of the call (an inference, unverified). The first part is a call counter.
 */
export function requestId(counter: number, nowMs: number): string {
  return `${counter.toString(16)}#${Math.max(0, Math.floor(nowMs)).toString(16)}`;
}
