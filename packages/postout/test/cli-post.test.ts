import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const SANDBOX_BIN = fileURLToPath(
  new URL("../bin/marketo-sandbox.ts", import.meta.resolve("@postout/sandbox")),
);

// Without MARKETO_* variables the CLI uses its built-in sandbox; strip any the machine has.
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
  ),
);

function postout(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env ?? CLEAN_ENV,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = (text: string) => JSON.parse(text);

describe("postout post / report / repost (subprocess, built-in sandbox)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-cli-"));
    writeFileSync(
      join(dir, "leads.csv"),
      [
        "Email,First,Score,Role",
        "ann@example.com,Ann,10,",
        "bob@example.com,Bob,12,CEO",
        '"cid@example.com","Cid, Jr",7,',
        "dan@example.com,Dan", // wrong column count: rejected with its line
        "eve@example.com,Eve,twelve,",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "map.json"),
      JSON.stringify({
        fields: { Email: "email", First: "firstName", Score: "leadScore", Role: "role" },
      }),
    );
    writeFileSync(
      join(dir, "fixed.json"),
      JSON.stringify({
        fields: { Email: "email", First: "firstName", Score: "leadScore", Role: "title" },
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("posts a file, reports rejected rows by line, and needs-fix leads with the fix", () => {
    const r = postout(["post", "leads.csv", "--map", "map.json", "--json"], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const summary = json(r.stdout);
    assert.deepEqual(
      [summary.accepted, summary.rejected, summary.delivered, summary.needsFix, summary.retrying],
      [4, 1, 2, 2, 0],
    );
    assert.equal(summary.created, 2);
    assert.deepEqual(summary.codes, { "200": 2, "1001": 1, "1006": 1 });
    for (const key of [
      "accepted",
      "rejected",
      "delivered",
      "created",
      "updated",
      "needsFix",
      "retrying",
      "paused",
      "calls",
      "codes",
    ]) {
      assert.ok(key in summary, key);
    }
    const human = postout(["post", "leads.csv", "--map", "map.json"], { cwd: dir });
    assert.match(human.stderr, /line 5: expected 4 columns/);
    assert.match(human.stderr, /accepted 0 of 5 rows \(1 could not be read: the lines above\)/);
    assert.match(human.stderr, /SANDBOX/);
  });

  it("accepts none of a file's rows twice when it is posted again", () => {
    const r = postout(["post", "leads.csv", "--map", "map.json", "--json"], { cwd: dir });
    const summary = json(r.stdout);
    assert.equal(summary.accepted, 0);
    assert.equal(summary.alreadyAccepted, 4);
    assert.deepEqual(summary.codes, {}, "no call in this run, so no code of the earlier one");
    const report = json(postout(["report", "--json"], { cwd: dir }).stdout);
    assert.equal(report.length, 4);
  });

  it("reports the post-out log as CSV with the documented columns", () => {
    const r = postout(["report", "--format", "csv", "--status", "needs_fix"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trim().split("\n");
    assert.equal(
      header,
      "LeadId,Email,Destination,Endpoint,Program,RequestContent,ResponseStatusCode,ResponseReason,Status,Attempts,MarketoId,UpdatedAt,Fix",
    );
    assert.equal(rows.length, 2);
    const bob = rows.find((row) => row.includes("bob@example.com")) ?? "";
    assert.match(bob, /,1006,Field 'role' not found,needs_fix,/);
    assert.match(bob, /'role' is not a Marketo field/);
    assert.match(bob, /preflight/, "caught before a call was spent");
  });

  it("finds leads by a code any of their calls got, with --attempt-code", () => {
    const byLast = json(postout(["report", "--json", "--code", "1006"], { cwd: dir }).stdout);
    const byAny = json(
      postout(["report", "--json", "--attempt-code", "1006"], { cwd: dir }).stdout,
    );
    assert.equal(byLast.length, 1);
    assert.deepEqual(
      byAny.map((l: { LeadId: number }) => l.LeadId),
      byLast.map((l: { LeadId: number }) => l.LeadId),
    );
  });

  it("reposts after the field map is fixed, and the lead is delivered", () => {
    const r = postout(["repost", "--code", "1006", "--map", "fixed.json", "--json"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).delivered, 1);
    assert.deepEqual(
      json(r.stdout).codes,
      { "200": 1 },
      "this repost's calls, not the 1006 before",
    );
    const report = json(postout(["report", "--json", "--email", "bob@"], { cwd: dir }).stdout);
    assert.equal(report[0].Status, "delivered");
    assert.equal(report[0].Attempts, 2);
    const attempts = json(
      postout(["report", "--json", "--attempts", "--email", "bob@"], { cwd: dir }).stdout,
    );
    assert.deepEqual(
      attempts.map((a: { ResponseStatusCode: string }) => a.ResponseStatusCode),
      ["1006", "200"],
    );
    // Delivered now: its last code is 200, but one of its calls got 1006.
    assert.equal(
      json(postout(["report", "--json", "--code", "1006"], { cwd: dir }).stdout).length,
      0,
    );
    const touched = json(
      postout(["report", "--json", "--attempt-code", "1006"], { cwd: dir }).stdout,
    );
    assert.deepEqual(
      touched.map((l: { Email: string }) => l.Email),
      ["bob@example.com"],
    );
  });

  it("refuses the whole file with --strict and accepts nothing", () => {
    const strictDir = mkdtempSync(join(dir, "strict-"));
    writeFileSync(join(strictDir, "bad.csv"), "email,firstName\na@x.com,A\nb@x.com\n");
    const r = postout(["post", "bad.csv", "--strict", "--json"], { cwd: strictDir });
    assert.equal(r.code, 1);
    assert.deepEqual(json(r.stdout), { refused: true, rejected: 1, lines: [3] });
    assert.equal(postout(["report"], { cwd: strictDir }).code, 2, "no database was even created");
  });

  it("test-integration shows the Request and the Response and marks the lead as a test", () => {
    const lead = JSON.stringify({ "Email Address": "tess@example.com", First: "Tess" });
    writeFileSync(
      join(dir, "ti.json"),
      JSON.stringify({ fields: { "Email Address": "email", First: "firstName" } }),
    );
    const r = postout(
      [
        "test-integration",
        "--lead",
        lead,
        "--map",
        "ti.json",
        "--program",
        "2026 Q3 Product Webinar",
        "--source",
        "ON24",
        "--program-status",
        "Registered",
        "--json",
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const shown = json(r.stdout);
    assert.equal(shown.status, "test");
    assert.deepEqual(shown.request, {
      programName: "2026 Q3 Product Webinar",
      source: "ON24",
      programStatus: "Registered",
      input: { email: "tess@example.com", firstName: "Tess" },
    });
    assert.equal(shown.response.success, true);
    assert.equal(shown.response.result[0].status, "created");
    assert.equal(shown.responseStatusCode, "200");
    const human = postout(
      ["test-integration", "--lead", JSON.stringify({ email: "t2@example.com", role: "CEO" })],
      { cwd: dir },
    );
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^Request {2}\(preflight\)/);
    assert.match(human.stdout, /ResponseStatusCode {2}1006/);
    assert.match(human.stdout, /Fix {17}'role' is not a Marketo field/);
    const tests = json(postout(["report", "--json", "--status", "test"], { cwd: dir }).stdout);
    assert.equal(tests.length, 1);
  });

  const usage = [
    { args: ["post", "missing.csv"], stderr: /missing\.csv/ },
    { args: ["post", "leads.csv", "--map", "nope.json"], stderr: /nope\.json/ },
    { args: ["post", "leads.csv", "--source", "x"], stderr: /--source needs --program/ },
    { args: ["post", "leads.csv", "--action", "upsert"], stderr: /--action must be one of/ },
    { args: ["post", "leads.txt"], stderr: /extension/ },
    { args: ["report", "--status", "done"], stderr: /'done' is not a status/ },
    { args: ["report", "--since", "yesterday"], stderr: /not an ISO 8601 time/ },
    { args: ["repost"], stderr: /name the leads to repost/ },
    { args: ["repost", "abc"], stderr: /'abc' is not a lead id/ },
    { args: ["repost", "999", "1"], stderr: /no lead 999:/ },
    { args: ["report", "--attempt-code", "5 03"], stderr: /--attempt-code '5 03' is not a code/ },
    { args: ["test-integration"], stderr: /give the test lead with --lead/ },
    {
      args: ["post", "leads.csv", "--custom-object", "car_c"],
      stderr: /--custom-object and --custom-object-fields go together/,
    },
    {
      args: ["post", "leads.csv", "--activity-type", "abc", "--activity-primary", "x"],
      stderr: /'abc' is not an activity type id/,
    },
    { args: ["test-integration", "--lead", "{oops"], stderr: /--lead is not valid JSON/ },
    { args: ["post", "leads.csv", "--destination", "nope"], stderr: /no destination named "nope"/ },
  ];
  for (const u of usage) {
    it(`exits 2 with a clear message: postout ${u.args.join(" ")}`, () => {
      writeFileSync(join(dir, "leads.txt"), "x");
      const r = postout(u.args, { cwd: dir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, u.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }

  it("reposts nothing, and says so, when no lead matches the filter", () => {
    const r = postout(["repost", "--code", "9999"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no lead matches: nothing to repost/);
    assert.doesNotMatch(r.stdout, /undefined/);
  });

  it("shows delivery progress with counts and the time left on a terminal", () => {
    const rows = Array.from({ length: 1500 }, (_, i) => `tty${i}@example.com,T${i}`);
    writeFileSync(join(dir, "many.csv"), ["email,firstName", ...rows].join("\n"));
    // `script` gives the command a terminal; its output is what the terminal showed.
    const command = `'${process.execPath}' '${BIN}' post many.csv --db tty.db`;
    const r = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: dir,
      env: CLEAN_ENV,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /delivering .* 0\/1500 leads \| estimating the time left/);
    assert.match(r.stdout, /delivering .* 1500\/1500 leads \| done/);
  });

  it("help says the exit codes and the field map's format", () => {
    const r = postout(["--help"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Exit codes \(every command\):\n {2}0 {2}done/);
    assert.match(r.stdout, /\n {2}2 {2}bad usage or configuration/);
    assert.match(r.stdout, /A field map \(--map FILE\) is JSON:/);
    assert.match(r.stdout, /unmapped: keep \| drop \| reject/);
  });

  it("prints its version with --version", () => {
    const r = postout(["--version"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it("exits 2 on a bad config file", () => {
    const confDir = mkdtempSync(join(dir, "conf-"));
    writeFileSync(
      join(confDir, "postout.config.json"),
      JSON.stringify({ destinations: [{ name: "x", baseUrl: "ftp://x" }] }),
    );
    writeFileSync(join(confDir, "a.csv"), "email\na@x.com\n");
    const r = postout(["post", "a.csv"], { cwd: confDir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /destinations\.0\.baseUrl/);
  });
});

describe("bad credentials: post pauses, a run with good ones resumes", () => {
  let dir: string;
  let sandbox: ChildProcess;
  let ready: { url: string; clientId: string; clientSecret: string };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-creds-"));
    sandbox = spawn(process.execPath, [SANDBOX_BIN, "--json", "--seed", "5"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    ready = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        sandbox.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString()));
        sandbox.once("exit", () => reject(new Error("the sandbox exited")));
      }),
    );
    writeFileSync(join(dir, "a.csv"), "email\na@x.com\nb@x.com\n");
  });
  after(() => {
    sandbox.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts every lead though the schema cannot be read, pauses them, and delivers them once the secret is fixed", () => {
    const env = (secret: string) => ({
      ...CLEAN_ENV,
      MARKETO_BASE_URL: ready.url,
      MARKETO_CLIENT_ID: ready.clientId,
      MARKETO_CLIENT_SECRET: secret,
    });
    const bad = postout(["post", "a.csv", "--json"], { cwd: dir, env: env("revoked") });
    assert.equal(bad.code, 1, bad.stderr);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
    assert.deepEqual([json(bad.stdout).accepted, json(bad.stdout).paused], [2, 2]);
    // For a person: why they wait and what to do, on stderr.
    const told = postout(["post", "a.csv"], { cwd: dir, env: env("revoked") });
    assert.equal(told.code, 1);
    assert.match(
      told.stderr,
      /postout: 2 lead\(s\) wait paused at \S+: Marketo refused the client id or client secret.* \(401\)\. Check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET/,
    );
    const good = postout(["post", "a.csv", "--json"], { cwd: dir, env: env(ready.clientSecret) });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.deepEqual([json(good.stdout).alreadyAccepted, json(good.stdout).delivered], [2, 2]);
  });
});

describe("crash: kill -9 a post mid-delivery, run it again", () => {
  let dir: string;
  let sandbox: ChildProcess;
  let url: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-crash-"));
    // An external sandbox that outlives the killed process, with Marketo-like latency.
    sandbox = spawn(process.execPath, [SANDBOX_BIN, "--json", "--seed", "3"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      sandbox.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString()));
      sandbox.once("exit", () => reject(new Error("the sandbox exited")));
    });
    const ready = JSON.parse(line);
    url = ready.url;
    env = CLEAN_ENV;
    // One call in flight at a time, so the kill lands between batches, some sent and some not.
    writeFileSync(
      join(dir, "postout.config.json"),
      JSON.stringify({
        destinations: [
          {
            name: "main",
            baseUrl: url,
            clientId: ready.clientId,
            clientSecret: ready.clientSecret,
            concurrency: 1,
          },
        ],
        // A cut-off call is looked for 2 s after it went out (the sandbox answers at once).
        verify: { settleMs: 2000 },
      }),
    );
    const rows = Array.from({ length: 2000 }, (_, i) => `crash${i}@example.com,C${i}`);
    writeFileSync(join(dir, "leads.csv"), `email,firstName\n${rows.join("\n")}\n`);
  });
  after(() => {
    sandbox.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("ends with every lead in the sandbox exactly once, even with createDuplicate", async () => {
    const args = [
      BIN,
      "post",
      "leads.csv",
      "--action",
      "createDuplicate",
      "--db",
      join(dir, "p.db"),
    ];
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Kill as soon as the first batch is in Marketo: the rest is claimed but not yet sent.
    const leadsIn = async () =>
      ((await (await fetch(`${url}/_sandbox/state`)).json()) as { leads: number }).leads;
    for (let i = 0; i < 1500 && (await leadsIn()) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const midway = (await (await fetch(`${url}/_sandbox/state`)).json()) as { leads: number };
    assert.ok(
      midway.leads > 0 && midway.leads < 2000,
      `the kill came mid-delivery (${midway.leads} leads in)`,
    );

    const r = spawnSync(process.execPath, [...args, "--json"], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.alreadyAccepted, 2000);
    assert.equal(summary.delivered, 2000, r.stderr);
    const state = (await (await fetch(`${url}/_sandbox/state`)).json()) as {
      leads: number;
      leadsSharingEmail: number;
    };
    assert.equal(state.leads, 2000);
    assert.equal(state.leadsSharingEmail, 0, "no lead was created twice");
  });
});
