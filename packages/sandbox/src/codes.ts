// §13: the error-code catalogue, message templates as the docs print them (`%s` is
// substituted in order). HTTP-level statuses are not here; they are not envelope codes.
const messages: Readonly<Record<string, string>> = {
  "601": "Access token invalid",
  "602": "Access token expired",
  "603": "Access denied",
  "604": "Request time-out",
  "605": "HTTP Method not supported",
  "606": "Max rate limit '%s' exceeded with in '%s' secs",
  "607": "Daily quota reached",
  "608": "API Temporarily Unavailable",
  "609": "Invalid JSON",
  "610": "Requested resource not found",
  "611": "System error",
  "612": "Invalid Content Type",
  "613": "Invalid Multipart Request",
  "614": "Invalid Subscription",
  "615": "Concurrent access limit reached",
  "616": "Invalid subscription type",
  "701": "%s cannot be blank",
  "702": "No data found for a given search scenario",
  "703": "The feature is not enabled for the subscription",
  "704": "Invalid date format",
  "709": "Business Rule Violation",
  "710": "Parent Folder Not Found",
  "711": "Incompatible Folder Type",
  "712": "Merge to person Account operation is invalid",
  "713": "Transient Error",
  "714": "Unable to find the default record type",
  "718": "ExternalSalesPersonID not found",
  "719": "Lock wait timeout exception",
  "1001": "Invalid value '%s'. Required of type '%s'",
  "1002": "Missing value for the required parameter '%s'",
  "1003": "Invalid data",
  "1004": "Lead not found",
  "1005": "Lead already exists",
  "1006": "Field '%s' not found",
  "1007": "Multiple leads match the lookup criteria",
  "1008": "Access denied to partition '%s'",
  "1009": "Partition name must be specified",
  "1010": "Partition update not allowed",
  "1011": "Field '%s' not supported",
  "1012": "Invalid cookie value '%s'",
  "1013": "Object not found",
  "1014": "Failed to create Object",
  "1015": "Lead not in list",
  "1016": "Too many imports",
  "1017": "Object already exists",
  "1018": "CRM Enabled",
  "1019": "Import in progress",
  "1020": "Too many clones to program",
  "1021": "Company update not allowed",
  "1022": "Object in use",
  "1025": "Program status not found",
  "1026": "Custom object not enabled",
  "1027": "Max Activity Type Limit Reached",
  "1028": "Max field limit reached",
  "1029": "Too many jobs in queue",
  "1035": "Unsupported filter type",
  "1036": "Duplicate object found in input",
  "1037": "Lead was skipped",
  "1042": "Invalid runAt date",
  "1048": "Custom Object Discard Draft Failed",
  "1049": "Failed to Create Activity",
};

/** True when `code` is in the catalogue (a response- or record-level code). */
export function isCatalogCode(code: string): boolean {
  return Object.hasOwn(messages, code);
}

/** The catalogue message for `code` with `%s` replaced by `args` in order. */
export function message(code: string, ...args: Array<string | number>): string {
  let i = 0;
  const template = messages[code] ?? "Unknown error";
  return template.replace(/%s/g, () => String(args[i++] ?? ""));
}
