import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const POSTOUT_BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));
export const SANDBOX_BIN = fileURLToPath(
  new URL("../bin/marketo-sandbox.ts", import.meta.resolve("@postout/sandbox")),
);

/** The environment without the machine's MARKETO_* and POSTOUT_* variables. */
export const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith("MARKETO_") && !k.startsWith("POSTOUT_"),
  ),
);

/** A `marketo-sandbox` process: Marketo as seen from the gateway, outliving any kill of it. */
export interface SandboxProcess {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  state(): Promise<{ leads: number; leadsSharingEmail: number } & Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startSandboxProcess(args: readonly string[]): Promise<SandboxProcess> {
  const child = spawn(process.execPath, [SANDBOX_BIN, "--json", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      let text = "";
      const onData = (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("\n")) {
          child.stdout?.off("data", onData);
          resolve(text);
        }
      };
      child.stdout?.on("data", onData);
      child.once("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)));
    }),
  ) as { url: string; clientId: string; clientSecret: string };
  return {
    ...ready,
    async state() {
      return (await (await fetch(`${ready.url}/_sandbox/state`)).json()) as Awaited<
        ReturnType<SandboxProcess["state"]>
      >;
    },
    stop: () => stop(child),
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** A `postout` subprocess whose output is kept whole for the secret scan. */
export interface PostoutRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

export function spawnPostout(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): PostoutRun {
  const child = spawn(process.execPath, [POSTOUT_BIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Runs `postout` to its end, at most `timeoutMs` (then SIGKILL). */
export async function runPostout(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnPostout(args, options);
  const timer = setTimeout(() => run.child.kill("SIGKILL"), options.timeoutMs);
  const { code } = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * `postout report` on a database once per set of extra flags, each named; resolves to the
 * stdout and stderr of every run, as the texts a secret scan reads.
 */
export async function reportTexts(
  db: string,
  reports: readonly (readonly [name: string, extra: readonly string[]])[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const [name, extra] of reports) {
    const r = await runPostout(["report", "--db", db, ...extra], options);
    texts.set(`${name} stdout`, r.stdout);
    texts.set(`${name} stderr`, r.stderr);
  }
  return texts;
}
