export { type Coerced, coerce, isAscii } from "./coerce.ts";
export {
  type FieldMap,
  FieldMapError,
  IDENTITY_MAP,
  loadFieldMap,
  parseFieldMap,
  type ValueMapper,
} from "./field-map.ts";
export { type Lead, type LeadValue, type MapResult, mapLead, normalizeEmail } from "./map-lead.ts";
export { type PreflightResult, preflight } from "./preflight.ts";
export type { Problem } from "./problem.ts";
export { type LeadSchema, leadSchema, type PreflightRoute, type SchemaField } from "./schema.ts";
export { applyValueMapper } from "./value-mappers.ts";
