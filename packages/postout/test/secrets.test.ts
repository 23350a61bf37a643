import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isSecretKeyError } from "../src/secrets/errors.ts";
import {
  defaultKeyFile,
  envKeySource,
  FileKeySource,
  keySourceFor,
} from "../src/secrets/key-source.ts";
import {
  newSecretKey,
  openSecret,
  parseSecretKey,
  sealedKeyId,
  sealSecret,
} from "../src/secrets/secret-box.ts";

const SECRET = "s3cret-Zq81-do-not-leak";
const dir = mkdtempSync(join(tmpdir(), "postout-secrets-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts a SecretKeyError of `code` whose message holds no secret. */
function refused(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(isSecretKeyError(error), String(error));
    assert.equal(error.code, code);
    assert.doesNotMatch(error.message, new RegExp(SECRET));
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe("secret box (AES-256-GCM)", () => {
  const key = newSecretKey();
  const byId = (id: string) => (id === key.id ? key : undefined);

  it("seals to a form naming its key, holding nothing of the secret, and opens it again", () => {
    const sealed = sealSecret(SECRET, 'destination "acme"', key);
    assert.equal(sealedKeyId(sealed), key.id);
    assert.match(key.id, /^[0-9a-f]{8}$/);
    assert.doesNotMatch(sealed, /s3cret/);
    assert.notEqual(sealSecret(SECRET, 'destination "acme"', key), sealed, "a fresh IV each time");
    assert.equal(openSecret(sealed, 'destination "acme"', byId, key.id), SECRET);
  });

  it("does not open under another destination's name (the name is authenticated)", () => {
    const sealed = sealSecret(SECRET, 'destination "acme"', key);
    assert.throws(
      () => openSecret(sealed, 'destination "other"', byId, key.id),
      refused("unreadable", /sealed for another destination/),
    );
  });

  it("does not open an altered secret", () => {
    const sealed = sealSecret(SECRET, "x", key);
    const parts = sealed.split(":");
    const body = Buffer.from(parts[3] as string, "base64url");
    body[0] = (body[0] as number) ^ 1;
    parts[3] = body.toString("base64url");
    assert.throws(() => openSecret(parts.join(":"), "x", byId, key.id), refused("unreadable"));
  });

  it("names both keys when the secret was sealed with another one", () => {
    const other = newSecretKey();
    const sealed = sealSecret(SECRET, "x", other);
    assert.throws(
      () => openSecret(sealed, "x", byId, key.id),
      refused("wrong-key", new RegExp(`sealed with key ${other.id}; the key in use is ${key.id}`)),
    );
  });

  it("reads a key as base64 of exactly 32 bytes, saying so otherwise", () => {
    const bytes = newSecretKey().bytes;
    assert.equal(parseSecretKey(bytes.toString("base64"), "K").bytes.length, 32);
    assert.throws(
      () => parseSecretKey(Buffer.alloc(16).toString("base64"), "POSTOUT_SECRET_KEY"),
      refused("bad-key", /POSTOUT_SECRET_KEY holds 16 bytes; it must be base64 of exactly 32/),
    );
    assert.throws(() => parseSecretKey("not base64!", "K"), refused("bad-key", /not base64/));
    assert.throws(() => envKeySource("c2hvcnQ="), refused("bad-key", /POSTOUT_SECRET_KEY/));
  });
});

describe("key source", () => {
  it("POSTOUT_SECRET_KEY wins over a key file", () => {
    const key = newSecretKey();
    const source = keySourceFor({
      db: join(dir, "a.db"),
      env: { POSTOUT_SECRET_KEY: key.bytes.toString("base64") },
    });
    assert.equal(source.kind, "env");
    assert.equal(source.current().id, key.id);
  });

  it("puts the key file beside a SQLite database, in ./data for PostgreSQL, or at POSTOUT_SECRET_KEY_FILE", () => {
    assert.equal(defaultKeyFile(join(dir, "x", "p.db")), join(dir, "x", "postout.key"));
    assert.equal(defaultKeyFile("postgres://u@h/db", dir), join(dir, "data", "postout.key"));
    const source = keySourceFor({
      db: "p.db",
      env: { POSTOUT_SECRET_KEY_FILE: "k/my.key" },
      cwd: dir,
    }) as FileKeySource;
    assert.equal(source.path, join(dir, "k", "my.key"));
  });

  it("creates the key file at first need, mode 0600, and reads the same key afterwards", () => {
    const path = join(dir, "first", "postout.key");
    const source = new FileKeySource(path);
    assert.equal(source.currentId(), undefined, "no file before a secret needs one");
    const key = source.current();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(new FileKeySource(path).current().id, key.id);
    assert.equal(readFileSync(path, "utf8").trim(), key.bytes.toString("base64"));
  });

  it("refuses a key file group or others may read, saying how to fix it", () => {
    const path = join(dir, "open", "postout.key");
    new FileKeySource(path).current();
    chmodSync(path, 0o644);
    assert.throws(
      () => new FileKeySource(path).current(),
      refused("open-file", /mode 0644.*chmod 600/),
    );
  });

  it("refuses a key file of the wrong length", () => {
    const path = join(dir, "short.key");
    writeFileSync(path, `${Buffer.alloc(31).toString("base64")}\n`, { mode: 0o600 });
    assert.throws(() => new FileKeySource(path).current(), refused("bad-key", /31 bytes/));
  });
});
