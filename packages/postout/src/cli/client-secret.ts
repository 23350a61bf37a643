import { readFileSync } from "node:fs";
import { readStdin, UsageError } from "./io.ts";

/** Where a command may take a client secret from: never a plain flag value (shell history). */
export interface SecretOptions {
  readonly clientSecretFile?: string;
  readonly clientSecretStdin?: boolean;
}

export const SECRET_SOURCES =
  "--client-secret-file FILE, --client-secret-stdin, or the MARKETO_CLIENT_SECRET variable";

/**
 * The client secret from `--client-secret-file`, `--client-secret-stdin`, or (with `env`) the
 * MARKETO_CLIENT_SECRET variable; `undefined` when none is given. Its first line, trimmed.
 */
export async function readClientSecret(
  o: SecretOptions,
  env: NodeJS.ProcessEnv | undefined,
): Promise<string | undefined> {
  if (o.clientSecretFile !== undefined && o.clientSecretStdin) {
    throw new UsageError(
      "give the client secret once: --client-secret-file or --client-secret-stdin",
    );
  }
  let text: string | undefined;
  let where: string;
  if (o.clientSecretFile !== undefined) {
    where = `the file ${o.clientSecretFile}`;
    try {
      text = readFileSync(o.clientSecretFile, "utf8");
    } catch (error) {
      throw new UsageError(
        `cannot read --client-secret-file ${o.clientSecretFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      );
    }
  } else if (o.clientSecretStdin) {
    where = "stdin";
    text = await readStdin();
  } else {
    where = "MARKETO_CLIENT_SECRET";
    text = env?.MARKETO_CLIENT_SECRET;
    if (text === undefined || text === "") return undefined;
  }
  const secret = (text ?? "").split(/\r?\n/)[0]?.trim() ?? "";
  if (secret === "") throw new UsageError(`the client secret from ${where} is empty`);
  return secret;
}
