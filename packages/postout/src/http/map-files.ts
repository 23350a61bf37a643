import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Keeps a field map sent over the API as a file named by its content, so a lead remembers
 * the map it was posted with (as a map file posted from the CLI is remembered) and a later
 * repost without a map maps it the same way. Resolves to the file's path.
 */
export function saveMapFile(dir: string, map: Readonly<Record<string, unknown>>): string {
  const text = `${JSON.stringify(map, null, 2)}\n`;
  const path = join(dir, `${createHash("sha256").update(text).digest("hex").slice(0, 32)}.json`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(path, text, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return path;
}
