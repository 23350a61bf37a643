import { open, stat } from "node:fs/promises";
import { IntakeError } from "./errors.ts";

/**
 * Checks that `path` is a readable regular file and not UTF-16/UTF-32 (by its byte order mark),
 * and returns its size. Every failure is an {@link IntakeError} naming the path.
 *
 * Decision: UTF-16 and UTF-32 files are refused, not transcoded — the fix (save as UTF-8) is one
 * click in every spreadsheet, and refusing keeps one decoding path for the whole product.
 */
export async function checkLeadFile(path: string): Promise<number> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new IntakeError("not_a_file", path, "is a directory, not a lead file");
    }
    if (!info.isFile()) throw new IntakeError("not_a_file", path, "is not a regular file");
    size = info.size;
  } catch (error) {
    if (error instanceof IntakeError) throw error;
    throw fsError(path, error);
  }
  let head: Buffer;
  try {
    const handle = await open(path, "r");
    try {
      const buffer = Buffer.alloc(4);
      const { bytesRead } = await handle.read(buffer, 0, 4, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fsError(path, error);
  }
  const encoding = wideEncoding(head);
  if (encoding !== undefined) {
    throw new IntakeError(
      "unsupported_encoding",
      path,
      `is ${encoding}, which is not supported; save it as UTF-8 (in Excel: Save As → "CSV UTF-8")`,
    );
  }
  return size;
}

/** The name of a UTF-16/UTF-32 encoding announced by a byte order mark, if any. */
export function wideEncoding(head: Uint8Array): string | undefined {
  const [a, b, c, d] = head;
  if (a === 0xff && b === 0xfe)
    return c === 0 && d === 0 ? "UTF-32 (little endian)" : "UTF-16 (little endian)";
  if (a === 0xfe && b === 0xff) return "UTF-16 (big endian)";
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return "UTF-32 (big endian)";
  return undefined;
}

/** Turns a file system failure into an {@link IntakeError}, by its `code` (never its message). */
export function fsError(path: string, error: unknown): IntakeError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new IntakeError("file_not_found", path, "no such file");
  }
  if (code === "EISDIR")
    return new IntakeError("not_a_file", path, "is a directory, not a lead file");
  if (code === "EACCES" || code === "EPERM") {
    return new IntakeError("unreadable", path, "permission denied; check the file's permissions");
  }
  return new IntakeError(
    "unreadable",
    path,
    `cannot be read (${typeof code === "string" ? code : "unknown error"})`,
  );
}

/** An {@link IntakeError} as it is, a file system failure as an {@link IntakeError}; anything else (a bug) unchanged. */
export function asIntakeError(path: string, error: unknown): unknown {
  if (error instanceof IntakeError) return error;
  if (typeof (error as { syscall?: unknown } | null)?.syscall === "string")
    return fsError(path, error);
  return error;
}
