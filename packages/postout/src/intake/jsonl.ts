import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { IntakeError } from "./errors.ts";
import { checkJsonLead } from "./fields.ts";
import { type IntakeItem, rejected } from "./items.ts";
import { asIntakeError } from "./open-file.ts";
import { limitsOf, type ReadOptions } from "./options.ts";

const LF = 0x0a;

/**
 * Reads a JSONL lead file as a stream: one JSON object per line (LF or CRLF), blank lines
 * skipped, a UTF-8 byte order mark skipped. A line that is not valid UTF-8, not valid JSON,
 * not an object, has a nested value, or is over the row limit is rejected with its line; the
 * rest of the file is still read. Object values keep their JSON types.
 *
 * Duplicate keys in one object: the last one wins (JSON.parse), as Marketo requires unique keys.
 */
export async function* readJsonl(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<IntakeItem> {
  const limits = limitsOf(options);
  let line = 1;
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let sawLead = false;

  const finish = (last: Buffer): IntakeItem | undefined => {
    const here = line++;
    if (tooLong) {
      sawLead = true;
      return rejected(here, "row_too_large", `the line is over ${limits.maxRowBytes} bytes`);
    }
    let bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    if (here === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3);
    }
    if (bytes.at(-1) === 0x0d) bytes = bytes.subarray(0, -1);
    if (isBlank(bytes)) return undefined;
    if (bytes.length > limits.maxRowBytes) {
      sawLead = true;
      return rejected(here, "row_too_large", `the line is over ${limits.maxRowBytes} bytes`);
    }
    sawLead = true;
    if (!isUtf8(bytes)) {
      return rejected(here, "invalid_utf8", "not valid UTF-8; save the file as UTF-8");
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString("utf8"));
    } catch (error) {
      return rejected(here, "invalid_json", `not valid JSON (${(error as Error).message})`);
    }
    const checked = checkJsonLead(value, limits);
    if ("code" in checked) return rejected(here, checked.code, checked.reason);
    return { kind: "row", line: here, fields: checked.fields };
  };

  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(LF, start); nl !== -1; nl = chunk.indexOf(LF, start)) {
        const item = finish(tooLong ? Buffer.alloc(0) : chunk.subarray(start, nl));
        parts = [];
        size = 0;
        tooLong = false;
        start = nl + 1;
        if (item) yield item;
      }
      if (start < chunk.length && !tooLong) {
        size += chunk.length - start;
        if (size > limits.maxRowBytes) {
          // Keep nothing of an over-long line: memory stays bounded whatever the file holds.
          tooLong = true;
          parts = [];
        } else {
          parts.push(chunk.subarray(start));
        }
      }
    }
  } catch (error) {
    throw asIntakeError(path, error);
  }
  if (size > 0 || tooLong) {
    const item = finish(Buffer.alloc(0));
    if (item) yield item;
  }
  if (!sawLead) throw new IntakeError("empty_file", path, "is empty (no leads)");
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) {
    // JSON whitespace: space, tab, CR, LF.
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}
