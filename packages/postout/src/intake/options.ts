/** The formats a lead file can have. */
export type LeadFileFormat = "csv" | "jsonl" | "json";

/** How {@link readLeadFile} reads a file; every option has its default beside it. */
export interface ReadOptions {
  /**
   * The file's format; when omitted it comes from the extension (`.csv`, `.jsonl`/`.ndjson`,
   * `.json`).
   */
  format?: LeadFileFormat | undefined;
  /**
   * The CSV field delimiter, one character.
   * @default ","
   */
  delimiter?: string | undefined;
  /**
   * Largest value of one field, in UTF-8 bytes; a row with a larger field is rejected.
   * @default 65536 (64 KiB)
   */
  maxFieldBytes?: number | undefined;
  /**
   * Largest row (CSV record or JSONL line), in bytes. A larger JSONL line is rejected; a larger
   * CSV record stops the file (`row_too_large`), because the CSV parser cannot find where it ends.
   * @default 1048576 (1 MiB)
   */
  maxRowBytes?: number | undefined;
  /**
   * Largest JSON array file; a JSON array is read whole, so bigger files must be JSONL.
   * @default 33554432 (32 MiB)
   */
  maxJsonBytes?: number | undefined;
}

export interface Limits {
  readonly maxFieldBytes: number;
  readonly maxRowBytes: number;
  readonly maxJsonBytes: number;
}

export const DEFAULT_LIMITS = {
  maxFieldBytes: 64 * 1024,
  maxRowBytes: 1024 * 1024,
  maxJsonBytes: 32 * 1024 * 1024,
} satisfies Limits;

export function limitsOf(options: ReadOptions): Limits {
  return {
    maxFieldBytes: options.maxFieldBytes ?? DEFAULT_LIMITS.maxFieldBytes,
    maxRowBytes: options.maxRowBytes ?? DEFAULT_LIMITS.maxRowBytes,
    maxJsonBytes: options.maxJsonBytes ?? DEFAULT_LIMITS.maxJsonBytes,
  };
}
