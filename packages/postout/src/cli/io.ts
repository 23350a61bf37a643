/** A mistake in how a command was called: exit code 2, with the message on stderr. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Everything on stdin, or `undefined` when stdin is a terminal (nothing was piped). */
export async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** "1 lead", "2 leads". */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString("en-US")} ${noun}${count === 1 ? "" : "s"}`;
}
