import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Config } from "../src/config.ts";
import { Gateway } from "../src/gateway.ts";
import { createApp } from "../src/http/app.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
  ),
);
const API_KEY = "test-key-0123456789abcdef";
// Not replay-safe: the route whose lost answers are looked for in Marketo, never resent blind.
const CREATE_ONLY: Route = { endpoint: "syncLeads", action: "createOnly", lookupField: "email" };

/** A port on 127.0.0.1 that nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("a destination whose Marketo cannot be reached: nothing was sent, nothing is uncertain", () => {
  let dir: string;
  let refused: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postout-unreach-"));
    refused = `127.0.0.1:${await closedPort()}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function open(host: string, file: string) {
    const config: Config = {
      db: join(dir, file),
      sandbox: false,
      retry: undefined,
      destinations: [
        {
          name: "main",
          baseUrl: `http://${host}`,
          clientId: "id",
          clientSecret: "secret",
          callsPer20s: undefined,
          concurrency: undefined,
        },
      ],
    };
    const store = new SqliteStore(join(dir, file));
    const gateway = await Gateway.open({
      store,
      config,
      announce: () => {},
      log: () => {},
      clientOptions: { retry: { maxAttempts: 1 } },
    });
    return { store, gateway };
  }

  for (const [what, host, file] of [
    ["a closed port", () => refused, "refused.db"],
    ["a port fetch blocks (9)", () => "127.0.0.1:9", "bad-port.db"],
  ] as const) {
    it(`${what}: the leads wait on the retry schedule as unreachable, naming the host and the fix`, async () => {
      const { store, gateway } = await open(host(), file);
      const rows = [{ raw: { email: "a@example.com" } }, { raw: { email: "b@example.com" } }];
      const before = Date.now();
      const { ids } = await gateway.accept(rows, {
        destination: "main",
        route: CREATE_ONLY,
        prepare: (raw) => ({ input: raw }),
      });
      await gateway.destination("main").dispatcher.drainSettled(() => {
        assert.fail("nothing to wait for: the leads were never sent");
      });
      await gateway.close();
      for (const id of ids) {
        const lead = await store.getLead(id);
        assert.equal(lead?.status, "retrying");
        assert.equal(lead?.lastCode, "unreachable");
        assert.ok(lead?.lastReason?.includes(`Cannot reach ${host()}`), lead?.lastReason);
        assert.match(lead?.fix ?? "", /base URL/);
        assert.doesNotMatch(lead?.fix ?? "", /Nothing to do/);
        // The schedule's first step (1 min), not the verification's settle time.
        assert.ok((lead?.nextAt ?? 0) >= before + 60_000);
        const attempts = await store.getAttempts(id);
        assert.deepEqual(
          attempts.map((a) => [a.statusCode, a.outcome]),
          [["unreachable", "retrying"]],
        );
      }
      await store.close();
    });
  }

  it("test integration reports the failure with the message, not success", async () => {
    const { store, gateway } = await open(refused, "test-integration.db");
    const app = createApp({
      gateway,
      apiKey: API_KEY,
      log: () => {},
      mapDir: join(dir, "maps"),
    });
    const res = await app.request("/v1/test-integration", {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        route: { endpoint: "syncLeads", action: "createOnly", lookupField: "email" },
        lead: { email: "probe@example.com" },
      }),
    });
    const json = (await res.json()) as Record<string, unknown> & {
      response: { success: boolean };
    };
    await gateway.close();
    await store.close();
    assert.equal(res.status, 200);
    assert.equal(json.status, "retrying");
    assert.equal(json.responseStatusCode, "unreachable");
    assert.equal(json.response.success, false);
    assert.match(String(json.responseReason), new RegExp(`Cannot reach ${refused}`));
    assert.match(String(json.fix), /base URL/);
  });

  it("postout post ends, exit 1, and says on stderr what happened and what to do", async () => {
    const post = (host: string) => {
      const cwd = mkdtempSync(join(dir, "cli-"));
      writeFileSync(
        join(cwd, "postout.config.json"),
        JSON.stringify({
          destinations: [
            { name: "main", baseUrl: `http://${host}`, clientId: "id", clientSecret: "s" },
          ],
        }),
      );
      writeFileSync(join(cwd, "a.csv"), "email\na@example.com\nb@example.com\n");
      const child = spawn(process.execPath, [BIN, "post", "a.csv", "--action", "createOnly"], {
        cwd,
        env: CLEAN_ENV,
        // A post that waits for verification would never end on its own.
        signal: AbortSignal.timeout(100_000),
      });
      child.on("error", () => {});
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      return new Promise<{ host: string; code: number | null; stdout: string; stderr: string }>(
        (resolve) => child.on("close", (code) => resolve({ host, code, stdout, stderr })),
      );
    };
    // Both at once: each waits out the client's own backoff (the schema read, then the write).
    for (const r of await Promise.all([post(refused), post("127.0.0.1:9")])) {
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /looking for them/);
      assert.match(r.stderr, new RegExp(`2 lead\\(s\\) not sent to main: Cannot reach ${r.host}`));
      assert.match(r.stderr, /base URL/);
      assert.match(r.stdout, /retrying\s+2/);
    }
  });
});
