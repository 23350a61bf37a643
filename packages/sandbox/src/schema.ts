// §7.4: lead field data types, with the API `dataType` strings seen in official examples.
// `reference` and `formula` strings are unverified; we use those names.
export const dataTypes = [
  "string",
  "text",
  "email",
  "integer",
  "float",
  "currency",
  "percent",
  "score",
  "boolean",
  "date",
  "datetime",
  "phone",
  "url",
  "reference",
  "formula",
  "link",
] as const;

/** A field data type (§7.4). */
export type DataType = (typeof dataTypes)[number];

/** A field of the lead schema, or of a custom object or activity type. */
export interface FieldSpec {
  /** REST API name, e.g. `industryVertical`. */
  name: string;
  dataType: DataType;
  /** UI label. @default the name */
  displayName?: string;
  /** Maximum length for string-like types. @default 255 for string, email, phone, url */
  length?: number;
  /** System-managed fields (id, createdAt, updatedAt) cannot be written. @default false */
  readOnly?: boolean;
}

/** A resolved field with every member present. */
export interface Field {
  id: number;
  name: string;
  dataType: DataType;
  displayName: string;
  length: number | undefined;
  readOnly: boolean;
  custom: boolean;
}

// §7.4 list-of-standard-fields, with the types the doc examples show; others are strings.
const standard: Array<[string, DataType, string, boolean?]> = [
  ["id", "integer", "Id", true],
  ["email", "email", "Email Address"],
  ["firstName", "string", "First Name"],
  ["lastName", "string", "Last Name"],
  ["middleName", "string", "Middle Name"],
  ["salutation", "string", "Salutation"],
  ["title", "string", "Job Title"],
  ["company", "string", "Company Name"],
  ["address", "text", "Address"],
  ["city", "string", "City"],
  ["state", "string", "State"],
  ["country", "string", "Country"],
  ["postalCode", "string", "Postal Code"],
  ["phone", "phone", "Phone Number"],
  ["mobilePhone", "phone", "Mobile Phone Number"],
  ["mainPhone", "phone", "Main Phone"],
  ["fax", "phone", "Fax Number"],
  ["website", "url", "Website"],
  ["dateOfBirth", "date", "Date of Birth"],
  ["department", "string", "Department"],
  ["industry", "string", "Industry"],
  ["annualRevenue", "currency", "Annual Revenue"],
  ["numberOfEmployees", "integer", "Num Employees"],
  ["leadRole", "string", "Role"],
  ["leadScore", "integer", "Lead Score"],
  ["leadSource", "string", "Lead Source"],
  ["leadStatus", "string", "Lead Status"],
  ["rating", "string", "Lead Rating"],
  ["sicCode", "string", "SIC Code"],
  ["site", "string", "Site"],
  ["billingStreet", "text", "Billing Address"],
  ["billingCity", "string", "Billing City"],
  ["billingState", "string", "Billing State"],
  ["billingCountry", "string", "Billing Country"],
  ["billingPostalCode", "string", "Billing Postal Code"],
  ["doNotCall", "boolean", "Do Not Call"],
  ["doNotCallReason", "string", "Do Not Call Reason"],
  ["unsubscribed", "boolean", "Unsubscribed"],
  ["unsubscribedReason", "text", "Unsubscribed Reason"],
  ["emailInvalid", "boolean", "Email Invalid"],
  ["emailInvalidCause", "string", "Email Invalid Cause"],
  ["anonymousIP", "string", "Anonymous IP"],
  ["inferredCompany", "string", "Inferred Company", true],
  ["inferredCountry", "string", "Inferred Country", true],
  ["inferredCity", "string", "Inferred City", true],
  ["inferredMetropolitanArea", "string", "Inferred Metropolitan Area", true],
  ["inferredPhoneAreaCode", "string", "Inferred Phone Area Code", true],
  ["inferredPostalCode", "string", "Inferred Postal Code", true],
  ["inferredStateRegion", "string", "Inferred State Region", true],
  ["cookies", "string", "Cookies"],
  ["mktToken", "string", "Marketo Token"],
  ["externalCompanyId", "string", "External Company Id"],
  ["externalSalesPersonId", "string", "External Sales Person Id"],
  ["sfdcAccountId", "string", "SFDC Account Id", true],
  ["sfdcContactId", "string", "SFDC Contact Id", true],
  ["sfdcLeadId", "string", "SFDC Lead Id", true],
  ["sfdcLeadOwnerId", "string", "SFDC Lead Owner Id", true],
  ["sfdcOpptyId", "string", "SFDC Oppty Id", true],
  ["twitterId", "string", "Twitter Id"],
  ["facebookId", "string", "Facebook Id"],
  ["linkedInId", "string", "LinkedIn Id"],
  ["leadPartitionId", "integer", "Lead Partition Id", true],
  ["createdAt", "datetime", "Created At", true],
  ["updatedAt", "datetime", "Updated At", true],
];

// §6.2: filterType and lookupField accept these standard fields, plus custom fields of type
// string, email or integer. Other standard fields (firstName, lastName…) answer 1011.
const searchableStandard = new Set([
  "cookies",
  "email",
  "facebookId",
  "id",
  "leadPartitionId",
  "linkedInId",
  "sfdcAccountId",
  "sfdcContactId",
  "sfdcLeadId",
  "sfdcLeadOwnerId",
  "sfdcOpptyId",
  "twitterId",
  // §5.1: Push Lead dedupes on `mktToken` with lookupField "mktToken".
  "mktToken",
]);

const lengthOf: Partial<Record<DataType, number>> = {
  string: 255,
  email: 255,
  phone: 255,
  url: 255,
};

const fieldNamePattern = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The lead schema: standard fields plus custom ones, with lookups by name. */
export class LeadSchema {
  readonly fields: readonly Field[];
  readonly #byName: Map<string, Field>;

  constructor(customFields: readonly FieldSpec[]) {
    const fields: Field[] = standard.map(([name, dataType, displayName, readOnly], i) => ({
      id: i + 1,
      name,
      dataType,
      displayName,
      length: lengthOf[dataType],
      readOnly: readOnly ?? false,
      custom: false,
    }));
    for (const spec of customFields) {
      if (!fieldNamePattern.test(spec.name)) {
        // §7.3: a field name starts with a letter and holds letters, digits, underscores.
        throw new TypeError(`customFields: invalid field name ${JSON.stringify(spec.name)}`);
      }
      if (!dataTypes.includes(spec.dataType)) {
        throw new TypeError(`customFields: ${spec.name} has unknown dataType ${spec.dataType}`);
      }
      if (fields.some((f) => f.name === spec.name)) {
        throw new TypeError(`customFields: ${spec.name} is already a lead field`);
      }
      fields.push({
        id: 1000 + fields.length,
        name: spec.name,
        dataType: spec.dataType,
        displayName: spec.displayName ?? spec.name,
        length: spec.length ?? lengthOf[spec.dataType],
        readOnly: spec.readOnly ?? false,
        custom: true,
      });
    }
    this.fields = fields;
    this.#byName = new Map(fields.map((f) => [f.name, f]));
  }

  /** The field named `name`, if any. */
  get(name: string): Field | undefined {
    return this.#byName.get(name);
  }

  /** True when `name` may be a filterType or lookupField (§6.2, §4). */
  isSearchable(field: Field): boolean {
    if (!field.custom) return searchableStandard.has(field.name);
    return (
      field.dataType === "string" || field.dataType === "email" || field.dataType === "integer"
    );
  }

  /** Describe Lead2's `searchableFields` (§7.2): one single-field key per searchable field. */
  searchableFields(): string[][] {
    return this.fields.filter((f) => this.isSearchable(f)).map((f) => [f.name]);
  }
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
// §4: only ASCII characters are allowed in email.
const emailPattern = /^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+\.[\x21-\x3f\x41-\x7e]+$/;

/** Outcome of checking one value against a data type: the stored value, or a 1001. */
export type Coerced = { ok: true; value: unknown } | { ok: false };

function validDate(text: string): boolean {
  if (!datePattern.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/**
 * Checks and normalises `value` for `dataType` (§7.4). `null` and "" clear the field
 * (unverified for leads: we store null). A mismatch is a 1001 for the caller to report.
 */
export function coerce(value: unknown, dataType: DataType, length?: number): Coerced {
  if (value === null || value === "") return { ok: true, value: null };
  switch (dataType) {
    case "string":
    case "text":
    case "phone":
    case "url":
    case "reference":
    case "link": {
      if (typeof value !== "string" && typeof value !== "number") return { ok: false };
      const text = String(value);
      // unverified: Marketo may truncate over-long strings; we refuse them with 1001.
      if (length !== undefined && text.length > length) return { ok: false };
      return { ok: true, value: text };
    }
    case "email":
      return typeof value === "string" && emailPattern.test(value) && value.length <= 255
        ? { ok: true, value }
        : { ok: false };
    case "integer":
    case "score":
    case "percent": {
      const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      return typeof n === "number" && Number.isSafeInteger(n)
        ? { ok: true, value: n }
        : { ok: false };
    }
    case "float":
    case "currency": {
      const n =
        typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))
          ? Number(value)
          : value;
      return typeof n === "number" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case "boolean":
      if (typeof value === "boolean") return { ok: true, value };
      if (value === "true" || value === "1" || value === 1) return { ok: true, value: true };
      if (value === "false" || value === "0" || value === 0) return { ok: true, value: false };
      return { ok: false };
    case "date":
      return typeof value === "string" && validDate(value) ? { ok: true, value } : { ok: false };
    case "datetime": {
      if (typeof value !== "string" || !dateTimePattern.test(value)) return { ok: false };
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? { ok: false } : { ok: true, value: isoSeconds(ms) };
    }
    case "formula":
      return { ok: false };
  }
}

/** `2015-08-24T20:17:23Z`: the datetime shape of the doc examples (no milliseconds). */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** The shown form of a value in a 1001 message. */
export function shown(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
}
