import type { RejectCode } from "./errors.ts";

/** A value as read: always a string from CSV; JSON keeps its scalar types. */
export type FieldValue = string | number | boolean | null;

/** One lead as read from the file, before mapping. */
export interface RowItem {
  readonly kind: "row";
  /** The physical line (1-based) where the record starts. */
  readonly line: number;
  readonly fields: Record<string, FieldValue>;
}

/** One row that could not be read; the rest of the file still is. */
export interface RejectedItem {
  readonly kind: "rejected";
  /** The physical line (1-based) where the record starts (or where the problem was found). */
  readonly line: number;
  readonly code: RejectCode;
  /** What is wrong and what to do, for a person. */
  readonly reason: string;
}

export type IntakeItem = RowItem | RejectedItem;

export function rejected(line: number, code: RejectCode, reason: string): RejectedItem {
  return { kind: "rejected", line, code, reason };
}
