import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";

/** One place a secret was found: where, and which secret (named, never quoted). */
export interface Finding {
  readonly where: string;
  readonly secret: string;
}

/** What a scan looked through and what it found. */
export interface ScanResult {
  readonly needles: number;
  readonly places: number;
  readonly bytes: number;
  readonly findings: readonly Finding[];
}

/**
 * The secrets to look for: the client secret and every issued token, each token also
 * without its `:pod` suffix, so a token cut at the colon is still caught.
 */
export function needlesOf(clientSecret: string, tokens: readonly string[]): Map<string, string> {
  const needles = new Map<string, string>([[clientSecret, "the client secret"]]);
  tokens.forEach((token, i) => {
    needles.set(token, `issued token #${i + 1}`);
    const bare = token.split(":")[0] ?? token;
    if (bare.length >= 16) needles.set(bare, `issued token #${i + 1} (without its suffix)`);
  });
  return needles;
}

/** Every row of every table of a SQLite database, each column as text, one line per row. */
export function dumpDatabase(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    const lines: string[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).iterate()) {
        lines.push(
          `${name}\t${Object.values(row as Record<string, unknown>)
            .map((v) => (Buffer.isBuffer(v) ? v.toString("latin1") : String(v)))
            .join("\t")}`,
        );
      }
    }
    return lines.join("\n");
  } finally {
    db.close();
  }
}

/**
 * Looks for each secret in texts (logs, reports, API answers), in every row of the databases,
 * and in the raw bytes of the database files with their WAL and journal (which also hold pages
 * no row shows any more).
 */
export function scanForSecrets(options: {
  readonly clientSecret: string;
  readonly tokens: readonly string[];
  readonly texts: ReadonlyMap<string, string>;
  readonly databases?: readonly string[];
}): ScanResult {
  const needles = needlesOf(options.clientSecret, options.tokens);
  const places = new Map(options.texts);
  for (const db of options.databases ?? []) {
    places.set(`${db} (every row of every table)`, dumpDatabase(db));
    for (const file of [db, `${db}-wal`, `${db}-journal`]) {
      if (existsSync(file))
        places.set(`${file} (raw bytes)`, readFileSync(file).toString("latin1"));
    }
  }
  const findings: Finding[] = [];
  let bytes = 0;
  for (const [where, text] of places) {
    bytes += text.length;
    for (const [needle, secret] of needles) {
      if (text.includes(needle)) findings.push({ where, secret });
    }
  }
  return { needles: needles.size, places: places.size, bytes, findings };
}
