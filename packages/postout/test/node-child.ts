import { type ChildProcess, spawn } from "node:child_process";

/** A child process with its output (stdout and stderr) kept. */
export interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: () => string;
  readonly exited: Promise<unknown>;
}

/**
 * Spawns `node args…` (this Node), adds it to `children` (so cleanup can end whatever is left)
 * and resolves once its stdout matches `ready`; rejects if it exits first or does not start
 * within `startMs`.
 */
export async function spawnNode(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly startMs?: number },
  ready: RegExp,
  children: Set<Child>,
): Promise<{ child: Child; match: RegExpExecArray }> {
  const { cwd, env, startMs = 30_000 } = options;
  const child = spawn(process.execPath, [...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += String(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += String(d);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const handle: Child = { child, pid: child.pid ?? -1, output: () => out, exited };
  children.add(handle);
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const guard = setTimeout(
      () => reject(new Error(`${args.join(" ")} did not start in ${startMs / 1000} s:\n${out}`)),
      startMs,
    );
    const look = () => {
      const m = ready.exec(out);
      if (m) {
        clearTimeout(guard);
        resolve(m);
      }
    };
    child.stdout?.on("data", look);
    child.once("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
  return { child: handle, match };
}
