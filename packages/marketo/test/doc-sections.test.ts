import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

// A section sign followed by a number in a comment, a test name or a README points at the
// heading of that number in docs/marketo.md. This keeps every such reference from dangling.

const root = fileURLToPath(new URL("../../../", import.meta.url));
const docPath = join(root, "docs", "marketo.md");

/** Section numbers of docs/marketo.md: "## 4. Sync Leads" → 4, "### 13.1 HTTP level" → 13.1. */
function headings(markdown: string): Set<string> {
  const numbers = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{2,4} (\d+(?:\.\d+)*)\.? /.exec(line);
    if (m?.[1] !== undefined) numbers.add(m[1]);
  }
  return numbers;
}

// A cited section, or a range of them ("6.1–6.3"). A number after "RFC 6749 " belongs to that
// RFC, not to our docs.
const CITATION = /(?<!RFC \d+ )§(\d+(?:\.\d+)*)(?:[–-](\d+(?:\.\d+)*))?/g;

interface Citation {
  readonly section: string;
  readonly where: string;
}

function citations(path: string): Citation[] {
  const found: Citation[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(CITATION)) {
        const where = `${relative(root, path)}:${i + 1}`;
        for (const section of [m[1], m[2]]) {
          if (section !== undefined) found.push({ section, where });
        }
      }
    });
  return found;
}

/** The .ts, .tsx and .md files under `dir`, outside node_modules, build output and dot-dirs. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules" || entry.name === "dist") {
      continue;
    }
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|tsx|md)$/.test(entry.name)) files.push(path);
  }
  return files;
}

describe("docs/marketo.md sections", () => {
  const sections = headings(readFileSync(docPath, "utf8"));
  const rootDocs = readdirSync(root)
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(root, name));
  // The doc's own cross-references count too.
  const cited = [...sourceFiles(join(root, "packages")), ...rootDocs, docPath].flatMap(citations);

  it("reads the numbered headings", () => {
    for (const section of ["2.2", "4", "6.3", "12", "13.3"]) {
      assert.ok(sections.has(section), `heading ${section} not found`);
    }
  });

  it("has a heading for every section the code, tests, READMEs and the doc itself cite", () => {
    // Hundreds of citations exist; finding few means the scan itself is broken.
    assert.ok(cited.length >= 200, `found only ${cited.length} citations`);
    const dangling = cited.filter((c) => !sections.has(c.section));
    assert.deepEqual(
      dangling.map((c) => `${c.where} cites ${c.section}`),
      [],
      "references to sections docs/marketo.md does not have",
    );
  });
});
