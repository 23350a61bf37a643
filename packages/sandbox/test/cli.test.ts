import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const node = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url));
const bin = fileURLToPath(new URL("../bin/marketo-sandbox.ts", import.meta.url));

function run(args: string[]): ChildProcess {
  return spawn(node, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  let text = "";
  for await (const chunk of child.stdout ?? []) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0] ?? "";
}

describe("marketo-sandbox command", () => {
  test("--json prints one ready line; the URL answers; SIGTERM stops it with 0", async () => {
    const child = run([
      "--json",
      "--client-id",
      "cid",
      "--client-secret",
      "sec",
      "--no-latency",
      "--time-scale",
      "0.01",
      "--freeze-clock",
    ]);
    const ready = JSON.parse(await firstLine(child)) as {
      url: string;
      clientId: string;
      clientSecret: string;
    };
    assert.equal(ready.clientId, "cid");
    assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(
      `${ready.url}/identity/oauth/token?grant_type=client_credentials&client_id=cid&client_secret=sec`,
    );
    assert.equal(res.status, 200);
    const clock = (await (await fetch(`${ready.url}/_sandbox/clock`)).json()) as {
      frozen: boolean;
    };
    assert.equal(clock.frozen, true);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    assert.equal((await exited)[0], 0);
  });

  test("plain ready line names the URL and credentials; --latency sets one kind", async () => {
    const child = run(["--client-id", "abc", "--client-secret", "s", "--latency", "read=300"]);
    const line = await firstLine(child);
    assert.match(
      line,
      /^Marketo sandbox on http:\/\/127\.0\.0\.1:\d+ {2}client id: abc {2}client secret: \S+$/,
    );
    const url = /on (\S+)/.exec(line)?.[1] ?? "";
    const auth = (await (
      await fetch(
        `${url}/identity/oauth/token?grant_type=client_credentials&client_id=abc&client_secret=s`,
      )
    ).json()) as { access_token: string };
    await fetch(`${url}/rest/v1/leads/describe.json`, {
      headers: { authorization: `Bearer ${auth.access_token}` },
    });
    const calls = (await (await fetch(`${url}/_sandbox/calls`)).json()) as Array<{
      path: string;
      durationMs: number;
    }>;
    const read = calls.find((c) => c.path === "/rest/v1/leads/describe.json");
    // A lower bound only: a loaded machine can make it slower, never faster.
    assert.ok((read?.durationMs ?? 0) >= 250, JSON.stringify(read));
    const exited = once(child, "exit");
    child.kill("SIGINT");
    await exited;
  });

  test("--instances N: the JSON ready line lists each instance; each answers with its own credentials", async () => {
    const child = run(["--json", "--instances", "3", "--no-latency", "--freeze-clock"]);
    const ready = JSON.parse(await firstLine(child)) as {
      url: string;
      instances: Array<{ url: string; clientId: string; clientSecret: string }>;
    };
    assert.deepEqual(
      ready.instances.map((i) => i.url),
      ["0000", "0001", "0002"].map((id) => `${ready.url}/i/${id}`),
    );
    const [, one, two] = ready.instances;
    assert.ok(one && two);
    const token = (at: string, id: string, secret: string) =>
      fetch(
        `${at}/identity/oauth/token?grant_type=client_credentials&client_id=${id}&client_secret=${secret}`,
      );
    assert.equal((await token(two.url, two.clientId, two.clientSecret)).status, 200);
    assert.equal((await token(two.url, one.clientId, one.clientSecret)).status, 401);
    const listed = (await (await fetch(`${ready.url}/_sandbox/instances`)).json()) as unknown[];
    assert.equal(listed.length, 3);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    assert.equal((await exited)[0], 0);
  });

  test("--instances N: the plain ready line is unchanged; the next names the instances", async () => {
    const child = run(["--instances", "1000", "--client-id", "abc", "--client-secret", "s"]);
    let text = "";
    for await (const chunk of child.stdout ?? []) {
      text += String(chunk);
      if (text.split("\n").length > 2) break;
    }
    const [first, second] = text.split("\n");
    assert.match(first ?? "", /^Marketo sandbox on (\S+) {2}client id: abc {2}client secret: s$/);
    const url = /on (\S+)/.exec(first ?? "")?.[1] ?? "";
    assert.equal(
      second,
      `1000 instances at ${url}/i/0000 … ${url}/i/0999; their credentials: GET ${url}/_sandbox/instances`,
    );
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  });

  for (const args of [
    ["--instances", "x"],
    ["--instances", "100001"],
    ["--port", "abc"],
    ["--time-scale", "-1"],
    ["--fault", "{bad"],
    ["--rate-calls", "0"],
    ["--latency", "slow=5"],
  ]) {
    test(`bad flag ${args.join(" ")} → clear error, exit 2`, async () => {
      const child = run(args);
      let err = "";
      child.stderr?.on("data", (d) => {
        err += String(d);
      });
      const [code] = await once(child, "exit");
      assert.equal(code, 2);
      assert.ok(err.length > 0);
    });
  }
});
