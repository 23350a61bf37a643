import { isUtf8 } from "node:buffer";
import { readFile } from "node:fs/promises";
import { IntakeError } from "./errors.ts";
import { checkJsonLead } from "./fields.ts";
import { type IntakeItem, rejected } from "./items.ts";
import { asIntakeError } from "./open-file.ts";
import { limitsOf, type ReadOptions } from "./options.ts";

/**
 * Reads a JSON array of lead objects. The file is read whole, so it is refused above
 * `maxJsonBytes` (default 32 MiB: parsing holds the text and its objects in memory at once)
 * with a hint to use JSONL. Invalid JSON or invalid UTF-8 makes the whole file unreadable
 * (JSON has no rows to skip to); elements that are not lead objects are rejected with the line
 * where they start.
 */
export async function* readJsonArray(
  path: string,
  size: number,
  options: ReadOptions = {},
): AsyncGenerator<IntakeItem> {
  const limits = limitsOf(options);
  if (size > limits.maxJsonBytes) {
    throw new IntakeError(
      "file_too_large",
      path,
      `is ${size} bytes; a JSON array is read whole and may be at most ${limits.maxJsonBytes} bytes. Use JSONL (one object per line) for larger files, e.g. jq -c '.[]' leads.json > leads.jsonl`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw asIntakeError(path, error);
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!isUtf8(bytes)) {
    throw new IntakeError(
      "invalid_utf8",
      path,
      "is not valid UTF-8; save it as UTF-8",
      firstBadLine(bytes),
    );
  }
  const text = bytes.toString("utf8");
  if (text.trim() === "") throw new IntakeError("empty_file", path, "is empty (no leads)");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const hint = text.trimStart().startsWith("{")
      ? "; if it holds one object per line, read it as JSONL (--format jsonl)"
      : "";
    throw new IntakeError(
      "invalid_json",
      path,
      `is not valid JSON (${(error as Error).message})${hint}`,
    );
  }
  if (!Array.isArray(value)) {
    throw new IntakeError(
      "not_an_array",
      path,
      "must hold a JSON array of lead objects ([{...}, {...}]); for one object per line use JSONL (--format jsonl)",
    );
  }
  if (value.length === 0)
    throw new IntakeError("no_leads", path, "holds an empty array (no leads)");
  const lines = elementLines(text);
  for (let i = 0; i < value.length; i++) {
    const line = lines[i] ?? 1;
    const checked = checkJsonLead(value[i], limits);
    yield "code" in checked
      ? rejected(line, checked.code, `element ${i + 1}: ${checked.reason}`)
      : { kind: "row", line, fields: checked.fields };
  }
}

/**
 * The line where each element of a valid top-level JSON array starts. Only called after
 * JSON.parse accepted the text, so it tracks strings and nesting, not grammar.
 */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expecting = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 10) {
      line++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) continue;
    if (depth === 1 && expecting && c !== 93) {
      lines.push(line);
      expecting = false;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth === 1) expecting = true;
    } else if (c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 1) expecting = true;
  }
  return lines;
}

function firstBadLine(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
    if (!isUtf8(bytes.subarray(start, nl))) return line;
    line++;
    start = nl + 1;
  }
  return line;
}
