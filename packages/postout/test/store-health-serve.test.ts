import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
  ),
);
// Root may write any file: the gateway then runs as nobody, so permissions apply to it.
const AS_USER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

describe("store health in postout serve (subprocess)", () => {
  it("a database file made read-only: /healthz and intake 503 naming it; write permission back → healthy and 202", async () => {
    const dir = mkdtempSync(join(tmpdir(), "postout-ro-"));
    chmodSync(dir, 0o777);
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", "data/p.db"], {
      cwd: dir,
      env: CLEAN_ENV,
      stdio: ["ignore", "pipe", "pipe"],
      ...AS_USER,
    });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      let out = "";
      let err = "";
      child.stderr?.on("data", (c: Buffer) => {
        err += c.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        // A guard against a hang, not a timing assertion.
        const guard = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
        child.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const found = /listening on (http:\/\/\S+)/.exec(out);
          if (found?.[1] && /X-API-Key/.test(out)) {
            clearTimeout(guard);
            resolve(found[1]);
          }
        });
        child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
      });
      const key = readFileSync(join(dir, "data", "api-key"), "utf8").trim();
      const post = (email: string) =>
        fetch(`${url}/v1/leads`, {
          method: "POST",
          headers: { "x-api-key": key, "content-type": "application/json" },
          body: JSON.stringify({
            route: { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" },
            leads: [{ email }],
          }),
        });
      assert.equal((await fetch(`${url}/healthz`)).status, 200);

      const db = join(dir, "data", "p.db");
      chmodSync(db, 0o444);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { code: string; error: string };
      assert.equal(body.code, "unwritable");
      assert.ok(body.error.includes(db), body.error);
      const refused = await post("ro@example.com");
      assert.equal(refused.status, 503);
      assert.match(((await refused.json()) as { error: string }).error, /is not writable/);

      chmodSync(db, 0o644);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal((await post("rw@example.com")).status, 202);
    } finally {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
