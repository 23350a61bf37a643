import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * A throwaway PostgreSQL server for one test file: `initdb` and `pg_ctl` in a temporary folder,
 * listening on 127.0.0.1 and a free port, trusting local connections. Every test takes its own
 * database from it ({@link PostgresCluster.createDatabase}). Stopped and deleted by
 * {@link PostgresCluster.destroy} (and, should the file end without it, when the process exits).
 *
 * Runs the server binaries as the `postgres` user when the tests run as root (initdb refuses
 * root); the folder is given to that user.
 */
export interface PostgresCluster {
  readonly port: number;
  /** The connection URL of a database of this cluster (`postgres` by default). */
  url(database?: string): string;
  /** Creates a new, empty database and answers its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (open connections are cut), keeping its data. */
  stop(): void;
  /** Starts the stopped server again on the same port. */
  start(): void;
  /** Stops the server and deletes its folder. */
  destroy(): void;
}

/** The folder of PostgreSQL's server binaries: PATH first, then Debian's /usr/lib/postgresql/N/bin (newest). */
export function postgresBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")))
      return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(root, v, "bin");
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  return undefined;
}

/** A port nobody listens on right now (the server may still lose it to a race: start retries). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** A server binary's command line, as `postgres` when we are root. */
function asServerUser(bin: string, args: readonly string[]): [string, string[]] {
  return asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]];
}

/** Runs a server binary; throws with its output when it fails. */
function run(bin: string, args: readonly string[]): void {
  const [command, argv] = asServerUser(bin, args);
  execFileSync(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a server binary whose failure changes nothing (stopping a server that is gone). */
function runQuiet(bin: string, args: readonly string[]): void {
  const [command, argv] = asServerUser(bin, args);
  spawnSync(command, argv, { stdio: "ignore" });
}

export interface ClusterOptions {
  /**
   * Keep PostgreSQL's durability (fsync, synchronous commit, full page writes), as production
   * runs: for benchmarks. Tests leave it off; what they check does not depend on it.
   * @default false
   */
  readonly durable?: boolean;
  /**
   * More server settings (`-c name=value`), e.g. `shared_preload_libraries: "pg_stat_statements"`
   * for a benchmark that counts statements.
   * @default {}
   */
  readonly settings?: Readonly<Record<string, string>>;
}

/** Starts a cluster. Throws, naming what to install, when PostgreSQL's binaries are missing. */
export async function startCluster(options: ClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new Error(
      "PostgreSQL's server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin: install Debian's postgresql (.ci/run does)",
    );
  const dir = mkdtempSync(join(tmpdir(), "postout-pg-"));
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  run(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--no-locale",
    "--no-sync",
  ]);

  let port = 0;
  const pgCtl = join(bin, "pg_ctl");
  const fast = options.durable
    ? ""
    : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  const extra = Object.entries(options.settings ?? {})
    .map(([name, value]) => ` -c ${name}=${value}`)
    .join("");
  const startOn = (p: number) =>
    run(pgCtl, [
      "-D",
      data,
      "-l",
      log,
      "-w",
      "-t",
      "60",
      "-o",
      // The socket in the test's own folder.
      `-p ${p} -h 127.0.0.1 -k ${dir} -c max_connections=200${fast}${extra}`,
      "start",
    ]);
  let running = false;
  // Fast: connections are cut and every commit is on disk (synchronous_commit is off, so an
  // immediate stop could lose the last ones); immediate when the data is thrown away anyway.
  const stopWith = (mode: "fast" | "immediate") => {
    if (!running) return;
    runQuiet(pgCtl, ["-D", data, "-m", mode, "-w", "stop"]);
    running = false;
  };
  const stop = () => stopWith("fast");
  const onSignal = (signal: NodeJS.Signals) => {
    destroy();
    process.kill(process.pid, signal);
  };
  const destroy = () => {
    stopWith("immediate");
    process.off("exit", destroy);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    rmSync(dir, { recursive: true, force: true });
  };
  // Never leave a server behind, whatever ends the test file (a signal is passed on after).
  process.on("exit", destroy);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  // Another process may take the free port before the server binds it: try a few.
  for (let tries = 0; ; tries++) {
    port = await freePort();
    try {
      startOn(port);
      running = true;
      break;
    } catch (error) {
      if (tries >= 4) {
        destroy();
        throw error;
      }
    }
  }

  const url = (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    port,
    url,
    async createDatabase() {
      databases += 1;
      const name = `test_${databases}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    start() {
      if (running) return;
      startOn(port);
      running = true;
    },
    destroy,
  };
}
