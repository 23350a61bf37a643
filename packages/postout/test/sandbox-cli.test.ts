import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));

describe("postout sandbox (subprocess)", () => {
  it("--help names the command it was run as", () => {
    const r = spawnSync(process.execPath, [BIN, "sandbox", "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: postout sandbox \[options\]/);
  });

  it("--instances N passes through: one process, N instances with their own credentials", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "sandbox", "--json", "--instances", "2", "--no-latency", "--freeze-clock"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let text = "";
    for await (const chunk of child.stdout ?? []) {
      text += String(chunk);
      if (text.includes("\n")) break;
    }
    const ready = JSON.parse(text.split("\n")[0] ?? "") as {
      url: string;
      instances: Array<{ url: string; clientId: string; clientSecret: string }>;
    };
    assert.deepEqual(
      ready.instances.map((i) => i.url),
      [`${ready.url}/i/0000`, `${ready.url}/i/0001`],
    );
    const one = ready.instances[1];
    assert.ok(one);
    const q = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: one.clientId,
      client_secret: one.clientSecret,
    });
    assert.equal((await fetch(`${one.url}/identity/oauth/token?${q}`)).status, 200);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    assert.equal((await exited)[0], 0);
  });
});
