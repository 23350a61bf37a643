import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "postout-demo-"));
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });

describe("postout demo (subprocess)", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves delivered, needs-fix and retrying leads, each with Marketo's code", () => {
    const r = run(["demo", "--json"]);
    assert.equal(r.status, 1, `leads need attention, as the exit codes say: ${r.stderr}`);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.accepted, s.delivered, s.needsFix, s.retrying], [40, 30, 7, 3]);
    // Rows of the post-out log by code: each outage lead's call was tried 3 times (the demo's
    // client retries), and each try is a row.
    assert.deepEqual(s.codes, { "200": 30, "503": 9, "1001": 1, "1005": 2, "1006": 2, "1025": 2 });
  });

  it("is idempotent: a second run accepts nothing twice", () => {
    const r = run(["demo", "--json"]);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(run(["report", "--json"]).stdout);
    assert.equal(report.length, 40);
  });

  it("shows the needs-fix leads with their fix for a person", () => {
    const r = run(["demo"]);
    assert.match(
      r.stdout,
      /needs_fix\s+1006\s+Field 'role' not found\s+'role' is not a Marketo field/,
    );
    assert.match(r.stdout, /needs_fix\s+1025\s+Program status not found/);
    assert.match(r.stderr, /built-in SANDBOX/);
    assert.match(r.stderr, /The sandbox starts empty each time Postout starts/);
  });
});
