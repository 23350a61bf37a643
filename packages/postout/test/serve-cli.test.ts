import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
  ),
);

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts `postout serve` on a free port and resolves once it printed its URL. */
async function startServe(
  cwd: string,
  env: NodeJS.ProcessEnv = CLEAN_ENV,
  extra: readonly string[] = [],
): Promise<Running> {
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--port", "0", "--db", "data/p.db", ...extra],
    {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // A guard against a hang, not a timing assertion: startup takes well under a second.
    const guard = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      // The authentication lines follow the URL in the same write.
      if (found?.[1] && /X-API-Key/.test(out)) {
        clearTimeout(guard);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}

describe("postout serve (subprocess)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-serve-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let key = "";

  it("starts, prints the URL and a new key once, answers /healthz, refuses a request without the key, stops on SIGTERM with 0", async () => {
    const serve = await startServe(dir);
    try {
      const keyFile = join(dir, "data", "api-key");
      key = readFileSync(keyFile, "utf8").trim();
      assert.ok(key.length >= 32);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.ok(serve.stdout().includes(key), "the new key is printed");

      const health = await fetch(`${serve.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      const refused = await fetch(`${serve.url}/v1/leads`);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: string }).error, "unauthorized");
      const allowed = await fetch(`${serve.url}/v1/destinations`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(allowed.status, 200);
    } finally {
      serve.child.kill("SIGTERM");
    }
    assert.equal(await serve.exited, 0);
    assert.match(serve.stderr(), /stopped/);
    assert.ok(!serve.stderr().includes(key), "the key is never on stderr");
  });

  it("reuses the stored key on the next start without printing it", async () => {
    const serve = await startServe(dir);
    try {
      assert.ok(!serve.stdout().includes(key), "the key is printed only when generated");
      assert.match(serve.stdout(), /API key: in .*api-key/);
      const res = await fetch(`${serve.url}/v1/leads`, { headers: { "x-api-key": key } });
      assert.equal(res.status, 200);
    } finally {
      serve.child.kill("SIGINT");
    }
    assert.equal(await serve.exited, 0);
  });

  it("takes the key from POSTOUT_API_KEY when set, and the stored one no longer opens it", async () => {
    const envKey = "env-key-0123456789abcdefghij";
    const serve = await startServe(dir, { ...CLEAN_ENV, POSTOUT_API_KEY: envKey });
    try {
      assert.match(serve.stdout(), /from POSTOUT_API_KEY/);
      assert.ok(!serve.stdout().includes(envKey));
      const withEnv = await fetch(`${serve.url}/v1/leads`, { headers: { "x-api-key": envKey } });
      assert.equal(withEnv.status, 200);
      const withFile = await fetch(`${serve.url}/v1/leads`, { headers: { "x-api-key": key } });
      assert.equal(withFile.status, 401);
    } finally {
      serve.child.kill("SIGTERM");
    }
    assert.equal(await serve.exited, 0);
  });
});

describe("postout serve --demo (subprocess)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-serve-demo-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const leadsOf = async (url: string) => {
    const key = readFileSync(join(dir, "data", "api-key"), "utf8").trim();
    const res = await fetch(`${url}/v1/leads?limit=500`, { headers: { "x-api-key": key } });
    assert.equal(res.status, 200);
    return (await res.json()) as {
      leads: { id: number; status: string; lastCode: string | null }[];
      counts: Record<string, number>;
    };
  };

  it("on a fresh database loads the demo: delivered, needs-fix and retrying leads; prints the dashboard URL", async () => {
    const serve = await startServe(dir, CLEAN_ENV, ["--demo"]);
    try {
      assert.ok(serve.stdout().includes(`dashboard: ${serve.url}/`), serve.stdout());
      assert.match(serve.stdout(), /demo: 40 sample leads loaded/);
      const { leads, counts } = await leadsOf(serve.url);
      assert.equal(leads.length, 40);
      assert.equal(counts.delivered, 30);
      assert.equal(counts.needs_fix, 7);
      assert.equal(counts.retrying, 3, "the outage's leads wait for the gateway's retry (1 min)");
      assert.ok(leads.some((l) => l.status === "needs_fix" && l.lastCode === "1006"));
    } finally {
      serve.child.kill("SIGTERM");
    }
    assert.equal(await serve.exited, 0);
  });

  it("a second start on the same database does not load the demo again", async () => {
    const serve = await startServe(dir, CLEAN_ENV, ["--demo"]);
    try {
      assert.match(serve.stdout(), /holds 40 leads already; no sample loaded/);
      assert.equal((await leadsOf(serve.url)).leads.length, 40);
    } finally {
      serve.child.kill("SIGTERM");
    }
    assert.equal(await serve.exited, 0);
  });

  it("refuses --demo with a usage error (exit 2) when a real Marketo is configured", () => {
    const r = spawnSync(
      process.execPath,
      [BIN, "serve", "--demo", "--port", "0", "--db", "data/m.db"],
      {
        cwd: dir,
        env: {
          ...CLEAN_ENV,
          MARKETO_BASE_URL: "https://123-ABC-456.mktorest.com",
          MARKETO_CLIENT_ID: "id",
          MARKETO_CLIENT_SECRET: "secret-not-printed",
        },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--demo runs only against the built-in sandbox/);
    assert.ok(!r.stderr.includes("secret-not-printed"));
    assert.equal(r.stdout, "");
  });
});
