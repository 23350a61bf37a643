import { ConfigError } from "../config.ts";

/**
 * Why a destination's secret cannot be sealed or opened. A closed set: callers branch on `code`,
 * never on the message. No message ever holds a secret or a key.
 * - `bad-key`: POSTOUT_SECRET_KEY (or a key file, or --new-key-env) is not base64 of 32 bytes.
 * - `open-file`: the key file can be read by group or others.
 * - `no-key`: there is no key file where the sealed secrets need one.
 * - `wrong-key`: the secret was sealed with another key than any in use.
 * - `unreadable`: the sealed form is damaged, altered, or belongs to another destination.
 * - `not-catalog-key`: this process seals with another key than the one the catalog's secrets are
 *   sealed with (it still runs with the key a rotation retired): it may not seal any.
 */
export type SecretKeyErrorCode =
  | "bad-key"
  | "open-file"
  | "no-key"
  | "wrong-key"
  | "unreadable"
  | "not-catalog-key";

/** A key or sealed-secret problem a person must fix: a configuration mistake (CLI exit 2). */
export class SecretKeyError extends ConfigError {
  override name = "SecretKeyError";
  readonly code: SecretKeyErrorCode;

  constructor(code: SecretKeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A secret this process sealed was refused by the catalog: its key (`used`, from `keys`) is not
 * the catalog's (`catalogKey`). Nothing was stored; the message names keys, never a secret.
 */
export function notCatalogKeyError(
  keys: { readonly kind: "env" | "file"; readonly where: string },
  used: string,
  catalogKey: string,
): SecretKeyError {
  const fix =
    keys.kind === "env"
      ? `after a key rotation every process must run with the new key: set ${keys.where} to key ${catalogKey} and restart this process`
      : `a rotation of ${keys.where} may be finishing (try again in a moment), or this process reads another key file than the one the catalog was sealed with`;
  return new SecretKeyError(
    "not-catalog-key",
    `the destination catalog's client secrets are sealed with key ${catalogKey}, but this process seals with key ${used} (${keys.where}); nothing was stored: ${fix}`,
  );
}

/** True for a {@link SecretKeyError}, also across realms (checks `name`). */
export function isSecretKeyError(error: unknown): error is SecretKeyError {
  return (
    error instanceof SecretKeyError ||
    (error as { name?: unknown } | null)?.name === "SecretKeyError"
  );
}
