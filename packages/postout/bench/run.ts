/**
 * `npm run bench -w postout`: runs every `*.bench.ts` in this folder one after another (never
 * in parallel: this machine has 2 cores), each in its own process, and prints their Markdown
 * sections in that order. `node bench/run.ts intake gateway` runs only the files whose names
 * start with one of the words given.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((w) => f.startsWith(w)))
  .sort();

let failed = false;
for (const file of files) {
  process.stderr.write(`bench: ${file} …\n`);
  const r = spawnSync(process.execPath, [file], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === 0) {
    process.stdout.write(`${r.stdout.trim()}\n\n`);
  } else {
    failed = true;
    process.stdout.write(`## ${file}\n\nThe benchmark failed (exit ${r.status ?? r.signal}).\n\n`);
  }
}
process.exitCode = failed ? 1 : 0;
