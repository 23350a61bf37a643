/** One Marketo lead field as describe2 shows it (docs/marketo.md §7.2). */
export interface SchemaField {
  /** The REST API name, e.g. "email". */
  readonly name: string;
  /** A §7.4 data type string: "string", "email", "integer", "float", "currency", "percent", "score", "boolean", "date", "datetime", "phone", "url", "text", … */
  readonly dataType: string;
  /** Most characters a string field holds (255 for most). */
  readonly length?: number | undefined;
  /** False for system-managed fields such as createdAt (§7.4: read-only). */
  readonly updateable: boolean;
}

/** A destination's lead fields, by REST name. */
export interface LeadSchema {
  readonly fields: ReadonlyMap<string, SchemaField>;
}

/** Builds a {@link LeadSchema} from describe2's `fields[]` (or any list of fields). */
export function leadSchema(fields: Iterable<SchemaField>): LeadSchema {
  const byName = new Map<string, SchemaField>();
  for (const field of fields) {
    byName.set(field.name, {
      name: field.name,
      dataType: field.dataType,
      ...(field.length === undefined ? {} : { length: field.length }),
      updateable: field.updateable,
    });
  }
  return { fields: byName };
}

/** Where a lead goes, as far as preflight needs it (the Sync Leads body, §4). */
export interface PreflightRoute {
  /** @default "createOrUpdate" */
  readonly action?: "createOnly" | "updateOnly" | "createOrUpdate" | "createDuplicate" | undefined;
  /** The dedupe key, which must be present in every input record (§4). @default "email" */
  readonly lookupField?: string | undefined;
  /** More fields every lead of this route must have a value for. */
  readonly required?: readonly string[] | undefined;
}
