import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The gateway's CLI, run as a user runs it (the workspace's postout package). */
const BIN = fileURLToPath(new URL("../../postout/bin/postout.ts", import.meta.url));

export const API_KEY = "browser-test-key-0123456789";

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`postout ${args[0]} exited ${code}: ${out}`)),
    );
  });
}

/**
 * `postout demo` fills a fresh database, then `postout serve` runs the gateway with the
 * dashboard on a free port, with its built-in sandbox; resolves once it listens.
 */
export async function startGateway() {
  const dir = mkdtempSync(join(tmpdir(), "postout-browser-"));
  const db = join(dir, "postout.db");
  const env: NodeJS.ProcessEnv = { ...process.env, POSTOUT_API_KEY: API_KEY, NO_COLOR: "1" };
  for (const k of ["MARKETO_BASE_URL", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"]) delete env[k];
  await run(["demo", "--db", db, "--json"], env);
  const child: ChildProcess = spawn(process.execPath, [BIN, "serve", "--db", db, "--port", "0"], {
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
      const m = /listening on (http:\/\/\S+)/.exec(output.join(""));
      if (m?.[1]) {
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
