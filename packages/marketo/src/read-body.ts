/** A response body read up to a bound. */
export interface BoundedBody {
  readonly body: string;
  /** Set to the bound when the body was longer: `body` holds only that many bytes. */
  readonly cutAtBytes?: number;
}

/**
 * Reads at most `maxBytes` of a response body, decoded as UTF-8. Past the bound it stops and
 * cancels the stream, which drops the connection: a hostile answer of a gigabyte costs
 * `maxBytes` of memory, never the rest.
 */
export async function readBounded(response: Response, maxBytes: number): Promise<BoundedBody> {
  if (response.body === null) return { body: "" };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: decode(chunks) };
    if (total + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - total));
      await reader.cancel().catch(() => undefined);
      return { body: decode(chunks), cutAtBytes: maxBytes };
    }
    chunks.push(value);
    total += value.byteLength;
  }
}

function decode(chunks: readonly Uint8Array[]): string {
  // As Response.text() decodes: UTF-8, a leading BOM dropped, invalid bytes as U+FFFD.
  return new TextDecoder().decode(Buffer.concat(chunks));
}
