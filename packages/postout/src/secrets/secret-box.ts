import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { SecretKeyError } from "./errors.ts";

/** A 256-bit key and its short id, which every sealed secret names. */
export interface SecretKey {
  /** 8 hex digits of a hash of the key: names it without giving anything of it away. */
  readonly id: string;
  readonly bytes: Buffer;
}

const KEY_BYTES = 32;
// 96-bit nonces, as GCM is specified for; a random one per seal (2^32 seals per key are safe).
const IV_BYTES = 12;
const VERSION = "v1";

/** A key from its 32 bytes. */
export function secretKey(bytes: Buffer): SecretKey {
  if (bytes.length !== KEY_BYTES) {
    throw new SecretKeyError(
      "bad-key",
      `a secret key is ${KEY_BYTES} bytes; this one has ${bytes.length}`,
    );
  }
  const id = createHash("sha256")
    .update("postout-secret-key-id\u0000")
    .update(bytes)
    .digest("hex")
    .slice(0, 8);
  return { id, bytes };
}

/** A fresh random key. */
export function newSecretKey(): SecretKey {
  return secretKey(randomBytes(KEY_BYTES));
}

/**
 * Reads a key written as base64 (standard or URL-safe alphabet). `where` names its origin for
 * the error (`POSTOUT_SECRET_KEY`, a file); the value is never quoted.
 */
export function parseSecretKey(text: string, where: string): SecretKey {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new SecretKeyError(
      "bad-key",
      `${where} is not base64: give 32 random bytes in base64, e.g. the output of 'openssl rand -base64 32'`,
    );
  }
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length !== KEY_BYTES) {
    throw new SecretKeyError(
      "bad-key",
      `${where} holds ${bytes.length} bytes; it must be base64 of exactly ${KEY_BYTES} bytes (e.g. 'openssl rand -base64 32')`,
    );
  }
  return secretKey(bytes);
}

/**
 * Seals a secret with AES-256-GCM. `context` is authenticated with it (the destination's name),
 * so a sealed secret copied to another row does not open there. The sealed form is
 * `v1:<key id>:<iv>:<ciphertext>:<tag>` (base64url parts).
 */
export function sealSecret(secret: string, context: string, key: SecretKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [VERSION, key.id, iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(":");
}

/** The id of the key a sealed secret names, or `undefined` when it is not a sealed secret. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split(":");
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
}

/**
 * Opens a sealed secret. `keyFor` finds the key it names; `inUse` is the id of the key in use,
 * for the message when none is found. Fails with a SecretKeyError that names keys and the
 * context, never the secret.
 */
export function openSecret(
  sealed: string,
  context: string,
  keyFor: (id: string) => SecretKey | undefined,
  inUse: string,
): string {
  const parts = sealed.split(":");
  const [version, id, iv, body, tag] = parts;
  if (parts.length !== 5 || version !== VERSION || !id || !iv || body === undefined || !tag) {
    throw new SecretKeyError("unreadable", `the secret of ${context} is not a sealed secret`);
  }
  const key = keyFor(id);
  if (!key) {
    throw new SecretKeyError(
      "wrong-key",
      `the secret of ${context} was sealed with key ${id}; the key in use is ${inUse}`,
    );
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([
      decipher.update(Buffer.from(body, "base64url")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    // GCM's tag check failed: the bytes were altered, or were sealed for another context.
    throw new SecretKeyError(
      "unreadable",
      `the secret of ${context} does not open with key ${id}: it was altered, or sealed for another destination`,
    );
  }
}
