/**
 * Intake benchmark: writes a 1,000,000-row CSV to a temp file, then reads it with readLeadFile
 * and maps each row (field map + value mapper + preflight), and prints a Markdown section with
 * rows/s and the peak RSS. Run from the repository root:
 *
 *   node_modules/.bin/node packages/postout/bench/intake.bench.ts [rows]
 */

import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { readLeadFile } from "../src/intake/index.ts";
import { leadSchema, mapLead, parseFieldMap, preflight } from "../src/mapping/index.ts";

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "postout-bench-"));
const path = join(dir, "leads.csv");

async function writeCsv(): Promise<void> {
  const out = createWriteStream(path);
  out.write("Email Address,First,Last,Company,State,Employees,Notes\n");
  const states = ["CA", "NY", "TX", "WA"];
  for (let i = 0; i < rows; i++) {
    const line = `lead${i}@Example.com,First${i},Last${i},"Acme, Inc. ${i % 1000}",${states[i % 4]},${i % 5000},"note ""${i}"""\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

const map = parseFieldMap({
  fields: {
    "Email Address": "email",
    First: "firstName",
    Last: "lastName",
    Company: "company",
    State: "state",
    Employees: "numberOfEmployees",
  },
  constants: { leadSource: "Webinar" },
  values: { state: { map: { CA: "California", NY: "New York", TX: "Texas" }, default: "Other" } },
});
const schema = leadSchema([
  { name: "email", dataType: "email", length: 255, updateable: true },
  { name: "firstName", dataType: "string", length: 255, updateable: true },
  { name: "lastName", dataType: "string", length: 255, updateable: true },
  { name: "company", dataType: "string", length: 255, updateable: true },
  { name: "state", dataType: "string", length: 255, updateable: true },
  { name: "numberOfEmployees", dataType: "integer", updateable: true },
  { name: "leadSource", dataType: "string", length: 255, updateable: true },
]);

async function pass(withMapping: boolean): Promise<{ seconds: number; ok: number }> {
  const start = performance.now();
  let ok = 0;
  for await (const item of readLeadFile(path)) {
    if (item.kind !== "row") continue;
    if (!withMapping) {
      ok++;
      continue;
    }
    const mapped = mapLead(item.fields, map);
    if (mapped.ok && preflight(mapped.lead, schema).problems.length === 0) ok++;
  }
  return { seconds: (performance.now() - start) / 1000, ok };
}

await writeCsv();
const bytes = statSync(path).size;
const read = await pass(false);
const mapped = await pass(true);
// maxRSS is in kilobytes (getrusage).
const peakMb = process.resourceUsage().maxRSS / 1024;
rmSync(dir, { recursive: true, force: true });

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(`## Intake: reading and mapping a ${fmt(rows)}-row CSV

Command: \`node_modules/.bin/node packages/postout/bench/intake.bench.ts${process.argv[2] ? ` ${process.argv[2]}` : ""}\`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}
Date: ${new Date().toISOString()}

| Measure | Figure |
|---|---|
| File | ${fmt(rows)} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB |
| Read (readLeadFile) | ${fmt(read.ok / read.seconds)} rows/s (${read.seconds.toFixed(1)} s) |
| Read + mapLead + preflight | ${fmt(mapped.ok / mapped.seconds)} rows/s (${mapped.seconds.toFixed(1)} s, ${fmt(mapped.ok)} leads passed) |
| Peak RSS (whole run) | ${peakMb.toFixed(0)} MB |
`);
