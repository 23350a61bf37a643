/**
 * `npm run bench`: runs every package's own `bench` script one after another (never in
 * parallel: this machine has 2 cores) and writes their Markdown sections to BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

const root = new URL("../", import.meta.url);
const { workspaces } = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  workspaces: string[];
};

const sections: string[] = [];
let failed = false;
for (const workspace of workspaces) {
  const pkg = JSON.parse(readFileSync(new URL(`${workspace}/package.json`, root), "utf8")) as {
    name: string;
    scripts?: Record<string, string>;
  };
  if (!pkg.scripts?.bench) continue;
  process.stderr.write(`bench: ${pkg.name} …\n`);
  const r = spawnSync("npm", ["run", "--silent", "bench"], {
    cwd: new URL(workspace, root),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const section = r.stdout.trim();
  if (r.status !== 0) failed = true;
  // A bench exits 1 when a figure misses its target: its section says which, so it is kept.
  if (section !== "") {
    sections.push(r.status === 0 ? section : `${section}\n\n(The bench exited ${r.status}.)`);
  } else {
    sections.push(
      `## ${pkg.name}\n\nThe benchmark failed (exit ${r.status}) before writing its section.\n`,
    );
  }
}

const cpus = os.cpus();
const header = [
  "# Benchmarks",
  "",
  "Produced by `npm run bench` (each package's section names its own command).",
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.`,
  `Date: ${new Date().toISOString()}.`,
  "",
].join("\n");
writeFileSync(new URL("BENCHMARKS.md", root), `${header}\n${sections.join("\n\n")}\n`);
process.stderr.write("bench: wrote BENCHMARKS.md\n");
process.exitCode = failed ? 1 : 0;
