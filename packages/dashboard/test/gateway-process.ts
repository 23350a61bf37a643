import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The gateway's CLI, run as a user runs it (the workspace's postout package). */
const BIN = fileURLToPath(new URL("../../postout/bin/postout.ts", import.meta.url));

export const API_KEY = "browser-test-key-0123456789";

/**
 * `postout serve --demo` on a fresh database and a free port, as `npm start` runs it: the
 * gateway with the dashboard, its built-in sandbox and the demo's leads; resolves once it listens.
 */
export async function startGateway() {
  const dir = mkdtempSync(join(tmpdir(), "postout-browser-"));
  const db = join(dir, "postout.db");
  const env: NodeJS.ProcessEnv = { ...process.env, POSTOUT_API_KEY: API_KEY, NO_COLOR: "1" };
  for (const k of ["MARKETO_BASE_URL", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"]) delete env[k];
  const args = ["serve", "--demo", "--db", db, "--port", "0"];
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stderr?.on("data", (d: Buffer) => output.push(String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start: ${output.join("")}`)),
      30_000,
    );
    child.stdout?.on("data", (d: Buffer) => {
      output.push(String(d));
      const text = output.join("");
      const m = /listening on (http:\/\/\S+)/.exec(text);
      // Ready once the demo's leads are in (it loads them after it starts listening).
      if (m?.[1] && /^demo: /m.test(text)) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${output.join("")}`));
    });
  });
  return {
    url,
    output,
    /** The gateway's SQLite file. */
    db,
    /** Calls the API as a program does, with the key. */
    async call(method: string, path: string, body?: unknown) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
