import { ConfigError } from "../config.ts";

/**
 * Why a destination's secret cannot be sealed or opened. A closed set: callers branch on `code`,
 * never on the message. No message ever holds a secret or a key.
 * - `bad-key`: POSTOUT_SECRET_KEY (or a key file, or --new-key-env) is not base64 of 32 bytes.
 * - `open-file`: the key file can be read by group or others.
 * - `no-key`: there is no key file where the sealed secrets need one.
 * - `wrong-key`: the secret was sealed with another key than any in use.
 * - `unreadable`: the sealed form is damaged, altered, or belongs to another destination.
 */
export type SecretKeyErrorCode = "bad-key" | "open-file" | "no-key" | "wrong-key" | "unreadable";

/** A key or sealed-secret problem a person must fix: a configuration mistake (CLI exit 2). */
export class SecretKeyError extends ConfigError {
  override name = "SecretKeyError";
  readonly code: SecretKeyErrorCode;

  constructor(code: SecretKeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** True for a {@link SecretKeyError}, also across realms (checks `name`). */
export function isSecretKeyError(error: unknown): error is SecretKeyError {
  return (
    error instanceof SecretKeyError ||
    (error as { name?: unknown } | null)?.name === "SecretKeyError"
  );
}
