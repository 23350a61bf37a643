import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Where the API key came from; `generated` is the only time it is printed. */
export interface ApiKey {
  readonly key: string;
  readonly source: "env" | "file" | "generated";
  /** The key file, for `file` and `generated`. */
  readonly path?: string;
}

/** The key file in the gateway's data folder (beside a SQLite database), readable by its owner only. */
export function apiKeyPath(dir: string): string {
  return join(resolve(dir), "api-key");
}

/**
 * The API key: `POSTOUT_API_KEY` when set; else the key stored in the data folder; else a
 * new random key, stored there with mode 0600 (created exclusively, so two first starts
 * cannot overwrite each other's key).
 */
export function resolveApiKey(options: {
  /** The gateway's data folder (cli/open.ts dataDirOf). */
  readonly dir: string;
  readonly env?: NodeJS.ProcessEnv;
}): ApiKey {
  const fromEnv = (options.env ?? process.env).POSTOUT_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: "env" };
  const path = apiKeyPath(options.dir);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(32).toString("base64url");
    try {
      writeFileSync(path, `${key}\n`, { mode: 0o600, flag: "wx" });
      return { key, source: "generated", path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  // A key file written by hand may be too open: tighten it (the key is a credential).
  chmodSync(path, 0o600);
  const key = readFileSync(path, "utf8").trim();
  if (key === "") throw new Error(`the API key file ${path} is empty: delete it to get a new key`);
  return { key, source: "file", path };
}
