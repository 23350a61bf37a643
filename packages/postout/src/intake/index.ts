export { readCsv } from "./csv.ts";
export { IntakeError, type IntakeErrorCode, isIntakeError, type RejectCode } from "./errors.ts";
export type { FieldValue, IntakeItem, RejectedItem, RowItem } from "./items.ts";
export { readJsonArray } from "./json-array.ts";
export { readJsonl } from "./jsonl.ts";
export { DEFAULT_LIMITS, type LeadFileFormat, type ReadOptions } from "./options.ts";
export { formatOf, readLeadFile } from "./read-lead-file.ts";
