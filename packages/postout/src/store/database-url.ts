/** True when `db` names a PostgreSQL server (`postgres://…` or `postgresql://…`) rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(db.trim());
}

/**
 * The database as messages and logs may show it: a URL's password, if any, replaced by `***`
 * (also in a URL that does not parse); a file path as it is.
 */
export function redactedUrl(db: string): string {
  if (!isPostgresUrl(db)) return db;
  try {
    const url = new URL(db);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    const at = db.lastIndexOf("@");
    const scheme = db.indexOf("://");
    if (at === -1 || scheme === -1 || at < scheme) return db;
    const userinfo = db.slice(scheme + 3, at);
    if (!userinfo.includes(":")) return db;
    return `${db.slice(0, scheme + 3)}${userinfo.slice(0, userinfo.indexOf(":"))}:***${db.slice(at)}`;
  }
}
