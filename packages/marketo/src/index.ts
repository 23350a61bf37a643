export type { Activity, ActivityQuery } from "./activities.ts";
export { clearTokenCache } from "./auth.ts";
export { cutBatches, halves, jsonBytes } from "./batch.ts";
export type { RetriedCall, SendingCall, WriteOptions } from "./batch-write.ts";
export {
  attributeRows,
  type ImportFile,
  type ImportJob,
  type ImportOptions,
  type ImportReport,
  type ImportRow,
  type ImportRowResult,
  type ImportStatus,
  type WaitOptions,
} from "./bulk-import.ts";
export {
  type CustomActivity,
  type CustomObjectOptions,
  type Lead,
  type LeadFilter,
  type LeadSchema,
  MarketoClient,
  type PushLeadsOptions,
  type SyncAction,
  type SyncLeadsOptions,
  type UsageReport,
} from "./client.ts";
export { clip, MAX_CHARS, MAX_REASONS } from "./clip.ts";
export {
  allCodes,
  type CodeEntry,
  type ExplainedCode,
  explainCode,
  fixFor,
  type Level,
  lookupCode,
  matchMessage,
  meaningFor,
  nearestCodes,
  RECOVERIES,
  type Recovery,
} from "./codes.ts";
export {
  AccessDeniedError,
  AccessTokenError,
  type ApiError,
  BadCredentialsError,
  DailyQuotaError,
  type Envelope,
  errorFromResponse,
  HttpLevelError,
  InvalidResponseError,
  isMarketoError,
  MarketoError,
  NetworkError,
  RateLimitError,
  type RawResponse,
  type RequestSummary,
  ResponseLevelError,
  readEnvelope,
  recordReasons,
  TimeoutError,
  UnreachableError,
} from "./errors.ts";
export {
  type AcquireAnswer,
  Gate,
  type GateLimits,
  type GateSnapshot,
  type GateStore,
  MemoryGateStore,
  type PauseReason,
  type ShareState,
  type Ticket,
} from "./gate.ts";
export {
  type CreateProbe,
  type FindCreatedOptions,
  type FoundCreate,
  findCreated,
  type LeadReader,
  lookupKey,
} from "./lookup.ts";
export {
  DEFAULT_GATE,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  type Endpoint,
  type GateOptions,
  type MarketoClientOptions,
  type RetryOptions,
} from "./options.ts";
export { nextQuotaReset, quotaDay } from "./quota-day.ts";
export { REDACTED, redactHeaders, redactText, redactValues } from "./redact.ts";
export type { BatchResult, RecordResult, RecordStatus } from "./results.ts";
export { delayMs, type Outcome, type RetryPolicy, shouldRetry } from "./retry.ts";
export {
  INSTANCE_LIMITS,
  type OwnLoad,
  type ThrottleCause,
  throttleCause,
} from "./throttle-cause.ts";
export { type EventHook, type Logger, type MarketoEvent, mayHaveExecuted } from "./transport.ts";
