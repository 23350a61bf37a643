import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

/** `postout sandbox` runs the `marketo-sandbox` command of @postout/sandbox with the same flags. */
export function registerSandbox(program: Command): void {
  program
    .command("sandbox")
    .description(
      "run the Marketo sandbox (same flags as marketo-sandbox; see postout sandbox --help)",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[flags...]")
    .action(async (flags: string[]) => {
      const bin = fileURLToPath(
        new URL("../bin/marketo-sandbox.ts", import.meta.resolve("@postout/sandbox")),
      );
      const child = spawn(process.execPath, [bin, ...flags], {
        stdio: "inherit",
        env: { ...process.env, MARKETO_SANDBOX_COMMAND: "postout sandbox" },
      });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
      process.exitCode = code;
    });
}
