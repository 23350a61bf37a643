import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { openDestinationSecret } from "../src/destinations/stored.ts";
import { isSecretKeyError } from "../src/secrets/errors.ts";
import { envKeySource, FileKeySource } from "../src/secrets/key-source.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_") && !k.startsWith("NODE_TEST"),
  ),
);
/** Distinctive, so a leak anywhere is found by a plain search. */
const SECRET = "cli-Secret-K8v3-never-printed";
const BETA_SECRET = "beta-Secret-M2x9-never-printed";
const WRONG = "cli-Wrong-P5t1-never-printed";

/** Every stdout and stderr of the suite, searched for the secrets at the end. */
const outputs: string[] = [];

/** Runs the CLI as a subprocess (asynchronously: the sandboxes it calls live in this process). */
function postout(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: options.env ?? CLEAN_ENV,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      outputs.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

interface Serving {
  readonly child: ChildProcess;
  readonly url: string;
  readonly key: string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

async function startServe(cwd: string, env: NodeJS.ProcessEnv = CLEAN_ENV): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      outputs.push(out, err);
      resolve(code);
    }),
  );
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
    child.on("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  const key = readFileSync(join(cwd, "data", "api-key"), "utf8").trim();
  return { child, url, key, stderr: () => err, exited };
}

/** Polls until `check` holds; the bound only stops a hang (nothing here is timed). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never happened: ${what}`);
}

describe("postout destinations (subprocess)", () => {
  let dir: string;
  let acme: Sandbox;
  let beta: Sandbox;
  let serve: Serving | undefined;
  const add = (name: string, sb: Sandbox, secret: string, extra: string[] = []) =>
    postout(
      [
        "destinations",
        "add",
        name,
        "--base-url",
        sb.url,
        "--client-id",
        sb.clientId,
        "--client-secret-stdin",
        ...extra,
      ],
      { cwd: dir, input: `${secret}\n` },
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-cli-dest-"));
    acme = await startSandbox({ latency: false, clientSecret: SECRET });
    beta = await startSandbox({ latency: false, clientSecret: BETA_SECRET });
  });
  after(async () => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
    await acme.close();
    await beta.close();
    rmSync(dir, { recursive: true, force: true });
    assert.ok(outputs.length > 20);
    for (const text of outputs) {
      assert.doesNotMatch(text, new RegExp(`${SECRET}|${BETA_SECRET}|${WRONG}`));
    }
  });

  it("adds a destination with the secret from stdin; seals it under a new 0600 key file; prints no secret", async () => {
    const r = await add("acme", acme, SECRET, ["--calls-per-20s", "50", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout);
    assert.equal(view.source, "api");
    assert.equal(view.baseUrl, acme.url);
    assert.deepEqual(view.limits, { callsPer20s: 50, concurrency: null });
    assert.equal(statSync(join(dir, "data", "postout.key")).mode & 0o777, 0o600);
    const db = readFileSync(join(dir, "data", "postout.db"));
    assert.equal(db.includes(SECRET), false, "the database holds no plain secret");
  });

  it("takes the secret from a file or MARKETO_CLIENT_SECRET, never from a flag value", async () => {
    const file = join(dir, "secret.txt");
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const fromFile = await postout(
      [
        "destinations",
        "add",
        "acme-file",
        "--base-url",
        acme.url,
        "--client-id",
        acme.clientId,
        "--client-secret-file",
        file,
      ],
      { cwd: dir },
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const fromEnv = await postout(
      ["destinations", "add", "acme-env", "--base-url", acme.url, "--client-id", acme.clientId],
      { cwd: dir, env: { ...CLEAN_ENV, MARKETO_CLIENT_SECRET: SECRET } },
    );
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const none = await postout(
      ["destinations", "add", "nosecret", "--base-url", acme.url, "--client-id", "x"],
      { cwd: dir },
    );
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /--client-secret-file FILE, --client-secret-stdin, or the MARKETO_CLIENT_SECRET/,
    );
    const flag = await postout(
      [
        "destinations",
        "add",
        "flag",
        "--base-url",
        acme.url,
        "--client-id",
        "x",
        "--client-secret",
        WRONG,
      ],
      { cwd: dir },
    );
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--client-secret'/);
  });

  it("refuses bad input naming the field and its flag, a taken name, and an unknown destination (exit 2)", async () => {
    const bad = await postout(
      [
        "destinations",
        "add",
        "bad",
        "--base-url",
        "not a url",
        "--client-id",
        "x",
        "--daily-budget",
        "-3",
        "--concurrency",
        "11",
        "--client-secret-stdin",
      ],
      { cwd: dir, input: "s\n" },
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /baseUrl \(--base-url\): an http\(s\) URL/);
    assert.match(bad.stderr, /dailyBudget \(--daily-budget\): at least 1/);
    assert.match(bad.stderr, /concurrency \(--concurrency\): at most 10/);
    const taken = await add("acme", acme, SECRET);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /"acme" exists already/);
    const config = await add("sandbox", acme, SECRET);
    assert.equal(config.code, 2);
    assert.match(config.stderr, /config file or the environment/);
    const unknown = await postout(["destinations", "edit", "nowhere", "--client-id", "x"], {
      cwd: dir,
    });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no destination named "nowhere"/);
    const readOnly = await postout(["destinations", "remove", "sandbox"], { cwd: dir });
    assert.equal(readOnly.code, 2);
    assert.match(readOnly.stderr, /edit the file/);
  });

  it("lists config and stored destinations, in a table and as JSON", async () => {
    const table = await postout(["destinations", "list"], { cwd: dir });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+SOURCE\s+BASE URL/m);
    assert.match(table.stdout, /^sandbox\s+config/m);
    assert.match(table.stdout, /^acme\s+api\s+http:\/\/127\.0\.0\.1:\d+/m);
    const json = JSON.parse(
      (await postout(["destinations", "list", "--json"], { cwd: dir })).stdout,
    );
    assert.deepEqual(
      json.destinations.map((d: { name: string; source: string }) => `${d.name}:${d.source}`),
      ["sandbox:config", "acme:api", "acme-env:api", "acme-file:api"],
    );
  });

  it("tests a saved destination and a draft: ok (exit 0), or the problem in words (exit 1)", async () => {
    const ok = await postout(["destinations", "test", "acme"], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: connected to 127\.0\.0\.1:\d+/);
    const wrong = join(dir, "wrong.txt");
    writeFileSync(wrong, WRONG, { mode: 0o600 });
    const edit = await postout(
      ["destinations", "edit", "acme-file", "--client-secret-file", wrong],
      { cwd: dir },
    );
    assert.equal(edit.code, 0, edit.stderr);
    const bad = await postout(["destinations", "test", "acme-file", "--json"], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).problem, "bad-credentials");
    // A port nothing listens on: taken from the system, then given back.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const draft = await postout(
      [
        "destinations",
        "test",
        "--base-url",
        `http://127.0.0.1:${port}`,
        "--client-id",
        "x",
        "--client-secret-stdin",
      ],
      { cwd: dir, input: WRONG },
    );
    assert.equal(draft.code, 1);
    assert.match(
      draft.stdout,
      new RegExp(`^unreachable: 127\\.0\\.0\\.1:${port} refused the connection`),
    );
  });

  it("add --test prints the test's result: ok, then added; a failed test adds nothing (exit 1)", async () => {
    // Its own folder: the destinations of the other tests stay as they are.
    const own = mkdtempSync(join(tmpdir(), "postout-cli-dest-test-"));
    try {
      const addTested = (name: string, secret: string, extra: string[] = []) =>
        postout(
          [
            "destinations",
            "add",
            name,
            "--base-url",
            acme.url,
            "--client-id",
            acme.clientId,
            "--client-secret-stdin",
            "--test",
            ...extra,
          ],
          { cwd: own, input: `${secret}\n` },
        );
      const ok = await addTested("tested", SECRET);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^ok: connected to 127\.0\.0\.1:\d+.*\nadded tested \(/);
      const json = await addTested("tested-json", SECRET, ["--json"]);
      assert.equal(json.code, 0, json.stderr);
      const view = JSON.parse(json.stdout);
      assert.equal(view.name, "tested-json");
      assert.equal(view.test.ok, true);
      const bad = await addTested("untested", WRONG);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^bad-credentials: /);
      const listed = JSON.parse(
        (await postout(["destinations", "list", "--json"], { cwd: own })).stdout,
      );
      assert.deepEqual(
        listed.destinations.map((d: { name: string }) => d.name),
        ["sandbox", "tested", "tested-json"],
      );
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("a running serve sends to a destination the CLI adds, and stops when the CLI removes it", async () => {
    serve = await startServe(dir);
    const s = serve;
    const postLeads = (destination: string, from: number, n: number) =>
      fetch(`${s.url}/v1/leads`, {
        method: "POST",
        headers: { "x-api-key": s.key, "content-type": "application/json" },
        body: JSON.stringify({
          destination,
          route: { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" },
          leads: Array.from({ length: n }, (_, i) => ({ email: `b${from + i}@example.com` })),
        }),
      });
    // The destinations serve started with send too.
    assert.equal((await postLeads("acme", 0, 1)).status, 202);

    const added = await add("beta", beta, BETA_SECRET);
    assert.equal(added.code, 0, added.stderr);
    // serve reads the catalog's version once a second: intake for beta opens without a restart.
    await eventually(async () => (await postLeads("beta", 0, 2)).status === 202, "beta accepted");
    await eventually(async () => (await beta.state()).leads === 2, "beta's leads in its Marketo");
    assert.match(s.stderr(), /destination beta added: sending/);

    // With nothing waiting, a removal is at once; serve stops taking leads for it.
    const removed = await postout(["destinations", "remove", "beta"], { cwd: dir });
    assert.equal(removed.code, 0, removed.stderr);
    await eventually(async () => (await postLeads("beta", 10, 1)).status === 400, "beta gone");
  });

  it("refuses to remove a destination with leads waiting (exit 1, naming how many); --waiting pause holds them", async () => {
    const s = serve as Serving;
    await postout(["destinations", "edit", "acme-file", "--calls-per-20s", "5"], { cwd: dir });
    // A destination whose credentials Marketo refuses: its leads wait (paused by the 401).
    const res = await fetch(`${s.url}/v1/leads`, {
      method: "POST",
      headers: { "x-api-key": s.key, "content-type": "application/json" },
      body: JSON.stringify({
        destination: "acme-file",
        route: { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" },
        leads: [{ email: "w1@example.com" }, { email: "w2@example.com" }],
      }),
    });
    assert.equal(res.status, 202);
    const refused = await postout(["destinations", "remove", "acme-file"], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /has 2 lead\(s\) waiting/);
    assert.match(refused.stderr, /--waiting pause/);
    const held = await postout(
      ["destinations", "remove", "acme-file", "--waiting", "pause", "--json"],
      { cwd: dir },
    );
    assert.equal(held.code, 0, held.stderr);
    assert.deepEqual(JSON.parse(held.stdout), { removed: "acme-file", held: 2 });
  });

  it("rotate-key re-seals every secret under a new key file; the old key no longer opens them; serve goes on sending", async () => {
    const keyFile = join(dir, "data", "postout.key");
    const oldKey = readFileSync(keyFile, "utf8");
    const rotated = await postout(["destinations", "rotate-key", "--json"], { cwd: dir });
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotation = JSON.parse(rotated.stdout);
    assert.equal(rotation.resealed, 4, "acme, acme-env, and the removed acme-file and beta");
    assert.notEqual(readFileSync(keyFile, "utf8"), oldKey);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    const store = new SqliteStore(join(dir, "data", "postout.db"));
    try {
      const entry = await store.getCatalogEntry("acme");
      assert.ok(entry);
      const old = envKeySource(oldKey.trim());
      assert.throws(
        () => openDestinationSecret("acme", entry.sealedSecret, old),
        (e: unknown) =>
          isSecretKeyError(e) &&
          e.code === "wrong-key" &&
          e.message.includes(`the key in use is ${old.current().id}`),
      );
      assert.equal(
        openDestinationSecret("acme", entry.sealedSecret, new FileKeySource(keyFile)),
        SECRET,
      );
    } finally {
      await store.close();
    }
    // A new process reads the secrets with the new key…
    const test = await postout(["destinations", "test", "acme"], { cwd: dir });
    assert.equal(test.code, 0, test.stderr);
    // …and the running serve too: an edit after the rotation rebuilds acme with the re-read key.
    await postout(["destinations", "edit", "acme", "--calls-per-20s", "40"], { cwd: dir });
    const s = serve as Serving;
    const before = (await acme.state()).leads as number;
    const res = await fetch(`${s.url}/v1/leads`, {
      method: "POST",
      headers: { "x-api-key": s.key, "content-type": "application/json" },
      body: JSON.stringify({
        destination: "acme",
        route: { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" },
        leads: [{ email: "after-rotation@example.com" }],
      }),
    });
    assert.equal(res.status, 202);
    await eventually(async () => (await acme.state()).leads === before + 1, "sent after rotation");
    assert.doesNotMatch(s.stderr(), /sealed with key|does not open/);
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0);
  });

  it("with POSTOUT_SECRET_KEY, rotate-key takes the new key from --new-key-env and says to switch", async () => {
    const envDir = mkdtempSync(join(tmpdir(), "postout-cli-envkey-"));
    try {
      const k1 = randomBytes(32).toString("base64");
      const k2 = randomBytes(32).toString("base64");
      const env1 = { ...CLEAN_ENV, POSTOUT_SECRET_KEY: k1 };
      const added = await postout(
        [
          "destinations",
          "add",
          "acme",
          "--base-url",
          acme.url,
          "--client-id",
          acme.clientId,
          "--client-secret-stdin",
        ],
        { cwd: envDir, env: env1, input: SECRET },
      );
      assert.equal(added.code, 0, added.stderr);
      const noNew = await postout(["destinations", "rotate-key"], { cwd: envDir, env: env1 });
      assert.equal(noNew.code, 2);
      assert.match(noNew.stderr, /--new-key-env/);
      const short = await postout(["destinations", "rotate-key", "--new-key-env", "NEXT_KEY"], {
        cwd: envDir,
        env: { ...env1, NEXT_KEY: "c2hvcnQ=" },
      });
      assert.equal(short.code, 2);
      assert.match(short.stderr, /NEXT_KEY holds 5 bytes; it must be base64 of exactly 32/);
      const rotated = await postout(["destinations", "rotate-key", "--new-key-env", "NEXT_KEY"], {
        cwd: envDir,
        env: { ...env1, NEXT_KEY: k2 },
      });
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /set POSTOUT_SECRET_KEY to the value of NEXT_KEY/);
      const stale = await postout(["destinations", "test", "acme"], { cwd: envDir, env: env1 });
      assert.equal(stale.code, 2);
      assert.match(stale.stderr, /was sealed with key [0-9a-f]{8}; the key in use is [0-9a-f]{8}/);
      const fresh = await postout(["destinations", "test", "acme"], {
        cwd: envDir,
        env: { ...CLEAN_ENV, POSTOUT_SECRET_KEY: k2 },
      });
      assert.equal(fresh.code, 0, fresh.stderr);
      const wrongLength = await postout(["destinations", "test", "acme"], {
        cwd: envDir,
        env: { ...CLEAN_ENV, POSTOUT_SECRET_KEY: randomBytes(16).toString("base64") },
      });
      assert.equal(wrongLength.code, 2);
      assert.match(wrongLength.stderr, /POSTOUT_SECRET_KEY holds 16 bytes/);
    } finally {
      rmSync(envDir, { recursive: true, force: true });
    }
  });
});
