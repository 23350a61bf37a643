const decoder = new TextDecoder("utf-8", { fatal: true });

/** Length of the sequence a lead byte starts (2–4), or 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The second byte's range, which rules out overlong forms, surrogates and code points over U+10FFFF. */
function secondByteOk(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead === 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead === 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}

/**
 * The byte offset (0-based) where `bytes` stop being valid UTF-8 (RFC 3629), or `undefined` when
 * all of them are valid.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  try {
    decoder.decode(bytes);
    return undefined;
  } catch {
    // Found below, byte by byte.
  }
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    const length = sequenceLength(lead);
    if (length === 0 || i + length > bytes.length) return i;
    if (!secondByteOk(lead, bytes[i + 1] as number)) return i;
    for (let k = 2; k < length; k++) {
      const b = bytes[i + k] as number;
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += length;
  }
  return undefined;
}
