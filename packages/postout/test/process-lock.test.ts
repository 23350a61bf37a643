import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
  ),
);

function postout(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: CLEAN_ENV,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `postout serve` on the database, resolved once it listens. */
async function serve(cwd: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", "data/p.db"], {
    cwd,
    env: CLEAN_ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    // A guard against a hang, not a timing assertion.
    const guard = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (/X-API-Key/.test(out)) {
        clearTimeout(guard);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  return { child, exited };
}

describe("one dispatching process per SQLite file (subprocesses)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-lock-"));
    writeFileSync(join(dir, "leads.csv"), "email,firstName\nann@example.com,Ann\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("while serve runs, post and a second serve exit 2 naming it (pid, host, command, since) and what to do; report keeps working; after kill -9 the lock is free", async () => {
    const running = await serve(dir);
    const pid = running.child.pid as number;
    try {
      const post = postout(["post", "leads.csv", "--db", "data/p.db"], dir);
      assert.equal(post.code, 2, post.stderr);
      assert.ok(post.stderr.includes(`process ${pid} on ${hostname()}`), post.stderr);
      assert.match(post.stderr, /postout serve --port 0 --db data\/p\.db/);
      assert.match(post.stderr, /since \d{4}-\d{2}-\d{2}T/);
      assert.match(post.stderr, /stop that process first/);
      assert.match(post.stderr, /post to its HTTP API instead \(POST \/v1\/leads\)/);

      const second = postout(["serve", "--port", "0", "--db", "data/p.db"], dir);
      assert.equal(second.code, 2, second.stderr);
      assert.ok(second.stderr.includes(`process ${pid}`));

      const report = postout(["report", "--json", "--db", "data/p.db"], dir);
      assert.equal(report.code, 0, report.stderr);
    } finally {
      running.child.kill("SIGKILL");
      await running.exited;
    }
    // The operating system released the lock with the process: nothing is left stuck.
    const post = postout(["post", "leads.csv", "--db", "data/p.db", "--json"], dir);
    assert.equal(post.code, 0, post.stderr);
  });
});
