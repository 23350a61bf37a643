import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Keeps a field map as a file named by its content, so a lead remembers the map it was
 * posted with (as a map file posted from the CLI is remembered) and a later repost without
 * a map maps it the same way. Resolves to the file's path.
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

/**
 * The field map a lead was posted with, as its file holds it (JSON, not yet checked by the
 * map parser), or `null` when the lead had none (the identity map). A file that is gone or is
 * not a JSON object also reads as `null`: repost would then name the file's problem.
 */
export async function readMapFile(
  path: string | undefined,
): Promise<Record<string, unknown> | null> {
  if (path === undefined) return null;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  try {
    const json: unknown = JSON.parse(text);
    return json !== null && typeof json === "object" && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
