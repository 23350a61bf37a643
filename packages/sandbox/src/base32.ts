// §3.5: Marketo's paging tokens are base32 text (`GIYDAOBN…`, padded with `=`); the date
// tokens of Get Paging Token decode to `2008-11-06T00:00:00.000+0000,0`.

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 of the UTF-8 bytes of `text`, padded to a multiple of 8 characters. */
export function base32(text: string): string {
  let bits = "";
  for (const byte of new TextEncoder().encode(text)) bits += byte.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i < bits.length; i += 5)
    out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, "0"), 2)];
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}

/** The text of a base32 token, or undefined when it has a character outside the alphabet. */
export function unbase32(token: string): string | undefined {
  let bits = "";
  for (const ch of token.replace(/=+$/, "")) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return undefined;
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return new TextDecoder().decode(new Uint8Array(bytes));
}
