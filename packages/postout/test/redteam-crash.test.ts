import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

// Red team (issue 12) with a real kill -9 (POSTOUT_CRASH_AT): a createOnly lead without a lookup
// value whose call reached Marketo is created again by the next run. Preflight would refuse such a
// lead (1002), but preflight is skipped when the schema cannot be read at intake (here Describe
// answers 500 throughout), and Marketo (the sandbox) creates a createOnly record without one.

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const SANDBOX_BIN = fileURLToPath(
  new URL("../bin/marketo-sandbox.ts", import.meta.resolve("@postout/sandbox")),
);
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
  ),
);

describe("red team: kill -9 at a crash point, run again", () => {
  let dir: string;
  let sandbox: ChildProcess;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-redteam-crash-"));
    sandbox = spawn(process.execPath, [SANDBOX_BIN, "--json", "--seed", "7"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const ready = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        sandbox.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString()));
        sandbox.once("exit", () => reject(new Error("the sandbox exited")));
      }),
    );
    url = ready.url;
    writeFileSync(
      join(dir, "postout.config.json"),
      JSON.stringify({
        destinations: [
          {
            name: "main",
            baseUrl: url,
            clientId: ready.clientId,
            clientSecret: ready.clientSecret,
          },
        ],
        verify: { settleMs: 2000 },
      }),
    );
    // Badge scans without an email: createOnly creates each (nothing to match it by).
    writeFileSync(
      join(dir, "scans.csv"),
      "firstName,company\nAnn,Scan A\nBob,Scan B\nCid,Scan C\n",
    );
  });
  after(() => {
    sandbox.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("createOnly without an email, killed just after the call left (sent@lead): each lead is in Marketo once", async () => {
    const fault = await fetch(`${url}/_sandbox/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: 500, endpoint: "/rest/v1/leads/describe" }),
    });
    assert.equal(fault.ok, true);
    const args = [BIN, "post", "scans.csv", "--action", "createOnly", "--db", join(dir, "p.db")];
    const killed = spawnSync(process.execPath, args, {
      cwd: dir,
      env: { ...CLEAN_ENV, POSTOUT_CRASH_AT: "sent@lead" },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(killed.signal, "SIGKILL", killed.stderr);
    // Let the sandbox finish the call the dead process left.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const midway = (await (await fetch(`${url}/_sandbox/state`)).json()) as { leads: number };
    assert.equal(midway.leads, 3, "the dead process's call was carried out");
    const again = spawnSync(process.execPath, [...args, "--json"], {
      cwd: dir,
      env: CLEAN_ENV,
      encoding: "utf8",
      timeout: 120_000,
    });
    const summary = JSON.parse(again.stdout || "{}");
    const state = (await (await fetch(`${url}/_sandbox/state`)).json()) as { leads: number };
    assert.equal(
      state.leads,
      3,
      `3 scans, 3 Marketo leads (the rerun ended: delivered ${summary.delivered}, needsFix ${summary.needsFix})`,
    );
  });
});
