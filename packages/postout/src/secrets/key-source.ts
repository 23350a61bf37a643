import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SecretKeyError } from "./errors.ts";
import { newSecretKey, parseSecretKey, type SecretKey } from "./secret-box.ts";

/** Where the key that seals destination secrets comes from. */
export interface KeySource {
  readonly kind: "env" | "file";
  /** For messages: `POSTOUT_SECRET_KEY`, or `the key file /srv/data/postout.key`. */
  readonly where: string;
  /** The key new secrets are sealed with; a key file is created at this first need. */
  current(): SecretKey;
  /** The id of the key in use, without creating one; `undefined` when there is none yet. */
  currentId(): string | undefined;
  /** A key this source holds, by id. */
  find(id: string): SecretKey | undefined;
}

/** `POSTOUT_SECRET_KEY`: base64 of 32 bytes, read (and checked) at once. */
export function envKeySource(value: string, name = "POSTOUT_SECRET_KEY"): KeySource {
  const key = parseSecretKey(value, name);
  return {
    kind: "env",
    where: name,
    current: () => key,
    currentId: () => key.id,
    find: (id) => (id === key.id ? key : undefined),
  };
}

/**
 * A key file, mode 0600: created at first need, refused when group or others may read it. During
 * a rotation the new key waits in `<file>.next` until every secret is sealed with it, so a crash
 * between the two leaves both keys readable, never secrets without their key.
 */
export class FileKeySource implements KeySource {
  readonly kind = "file";
  readonly path: string;
  readonly where: string;
  #key: SecretKey | undefined;

  constructor(path: string) {
    this.path = resolve(path);
    this.where = `the key file ${this.path}`;
  }

  get nextPath(): string {
    return `${this.path}.next`;
  }

  current(): SecretKey {
    // Read at every seal (rare): a key another process rotated meanwhile must not seal anything.
    const existing = this.#read(this.path);
    if (existing) {
      this.#key = existing;
      return existing;
    }
    mkdirSync(dirname(this.path), { recursive: true });
    const key = newSecretKey();
    try {
      // Exclusive: two first starts cannot each seal with their own key.
      writeKeyFile(this.path, key, "wx");
      this.#key = key;
      return key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return this.#read(this.path) as SecretKey;
    }
  }

  currentId(): string | undefined {
    if (this.#key) return this.#key.id;
    this.#key = this.#read(this.path);
    return this.#key?.id;
  }

  find(id: string): SecretKey | undefined {
    if (this.#key?.id === id) return this.#key;
    // Read again: another process may have rotated the key since.
    const key = this.#read(this.path);
    if (key) this.#key = key;
    if (key?.id === id) return key;
    const staged = this.#read(this.nextPath);
    return staged?.id === id ? staged : undefined;
  }

  /** Writes the rotation's new key beside the file (`.next`), durably, before any secret uses it. */
  stageNext(key: SecretKey): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.nextPath)) unlinkSync(this.nextPath);
    writeKeyFile(this.nextPath, key, "wx");
  }

  /** Makes the staged key the key in use: one rename, atomic on one file system. */
  promoteNext(): void {
    renameSync(this.nextPath, this.path);
    this.#key = undefined;
  }

  /** Drops a staged key no secret was sealed with (a rotation that did not commit). */
  dropNext(): void {
    if (existsSync(this.nextPath)) unlinkSync(this.nextPath);
  }

  /** The key in a file, read now; `undefined` when there is no file. */
  #read(path: string): SecretKey | undefined {
    let mode: number;
    try {
      mode = statSync(path).mode;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretKeyError(
        "open-file",
        `the key file ${path} can be read by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); it seals the Marketo secrets: run 'chmod 600 ${path}' and start again`,
      );
    }
    return parseSecretKey(readFileSync(path, "utf8"), `the key file ${path}`);
  }
}

function writeKeyFile(path: string, key: SecretKey, flag: "wx"): void {
  const fd = openSync(path, flag, 0o600);
  try {
    writeSync(fd, `${key.bytes.toString("base64")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** The key file's default place: beside the SQLite database; `./data/postout.key` for PostgreSQL. */
export function defaultKeyFile(db: string, cwd = process.cwd()): string {
  return POSTGRES_URL.test(db)
    ? resolve(cwd, "data", "postout.key")
    : join(dirname(resolve(cwd, db)), "postout.key");
}

/**
 * The key source of a database: `POSTOUT_SECRET_KEY` when set, else the key file named by
 * `POSTOUT_SECRET_KEY_FILE`, else {@link defaultKeyFile}.
 */
export function keySourceFor(options: {
  readonly db: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}): KeySource {
  const env = options.env ?? process.env;
  const fromEnv = env.POSTOUT_SECRET_KEY?.trim();
  if (fromEnv) return envKeySource(fromEnv);
  const file = env.POSTOUT_SECRET_KEY_FILE?.trim();
  const cwd = options.cwd ?? process.cwd();
  return new FileKeySource(file ? resolve(cwd, file) : defaultKeyFile(options.db, cwd));
}
